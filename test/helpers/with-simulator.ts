import type { AddressInfo } from 'node:net';
import {
  buildSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/build-simulator.js';

export interface SimulatorHandle {
  /** Base URL, e.g. `http://127.0.0.1:41234` (https with `tls`). */
  url: string;
  sim: Simulator;
}

/**
 * Runs `body` against a simulator listening on 127.0.0.1, port 0; always closes it afterwards,
 * also when `body` throws.
 */
export async function withSimulator<T>(
  options: SimulatorOptions,
  body: (handle: SimulatorHandle) => Promise<T>,
): Promise<T> {
  const sim = await buildSimulator(options);
  try {
    await sim.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = sim.app.server.address() as AddressInfo;
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${String(port)}`;
    return await body({ url, sim });
  } finally {
    await sim.close();
  }
}
