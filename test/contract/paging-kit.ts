import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { staticTokenProvider } from '../../src/auth/token-provider.js';
import type { CallGate } from '../../src/defender/call-gate.js';
import { createDefenderClient, type DefenderClient } from '../../src/defender/client.js';
import type { EndpointFamily } from '../../src/defender/machine-action.js';
import {
  buildSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/build-simulator.js';
import type { MachineInput } from '../../src/simulator/machine-file.js';

/** A gate that never waits and runs `before` ahead of each call (a list that grows meanwhile). */
export function countingGate(before: (family: EndpointFamily) => void = () => undefined) {
  const families: EndpointFamily[] = [];
  const gate: CallGate = {
    acquire: (family) => {
      families.push(family);
      before(family);
      return Promise.resolve({
        settle: () => Promise.resolve(),
        release: () => Promise.resolve(),
      });
    },
    throttle: () => Promise.resolve(),
  };
  return { gate, families };
}

/** The real client on a listening simulator, closed with it. */
export async function withSimClient<T>(
  options: SimulatorOptions,
  client: { pageSize: number; gate?: CallGate },
  body: (handle: { sim: Simulator; api: DefenderClient; url: string }) => Promise<T>,
): Promise<T> {
  const sim = await buildSimulator(options);
  try {
    await sim.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = sim.app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${String(port)}`;
    const api = createDefenderClient({
      apiUrl: url,
      tokens: staticTokenProvider(sim.issueToken({ lifetimeSec: 86_400 })),
      gate: client.gate ?? countingGate().gate,
      timeoutMs: 60_000,
      pageSize: client.pageSize,
      throttleDefaultMs: 1_000,
      log: pino({ level: 'silent' }),
    });
    try {
      return await body({ sim, api, url });
    } finally {
      api.close();
    }
  } finally {
    await sim.close();
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const hex = (n: number) => n.toString(16).padStart(40, '0');

/** `count` healthy devices; the first `tagged` carry `tag`. */
export function taggedFleet(count: number, tagged: number, tag: string): MachineInput[] {
  return Array.from({ length: count }, (_, n) => ({
    id: hex(n + 1),
    computerDnsName: `dev-${String(n + 1)}.contoso.example`,
    osPlatform: 'Windows11',
    healthStatus: 'Active',
    onboardingStatus: 'Onboarded',
    machineTags: n < tagged ? [tag] : [],
  }));
}

/** Simulator calls of one family whose query is what `pick` selects. */
export function listCalls(sim: Simulator, family: 'machines' | 'machineActions') {
  return sim.calls().filter((c) => c.family === family);
}
