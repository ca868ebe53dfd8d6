import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RateWindow } from '../../src/config/duration.js';
import {
  buildSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/build-simulator.js';

/** The API's documented caps, in API time; the simulator and fleetscan divide them by the factor. */
export const MDE_WINDOWS: readonly RateWindow[] = [
  { cap: 100, windowMs: 60_000 },
  { cap: 1500, windowMs: 3_600_000 },
];

/** Caps nobody reaches: "limits lifted" for the machinery scenarios. */
export const UNTHROTTLED: readonly RateWindow[] = [{ cap: 1_000_000_000, windowMs: 60_000 }];

/** Windows as fleetscan and BullMQ see them at a time factor: a minute is 60 s / factor. */
export function compressed(windows: readonly RateWindow[], factor: number): RateWindow[] {
  return windows.map((w) => ({ cap: w.cap, windowMs: w.windowMs / factor }));
}

/**
 * Reply latency, jittered, standing for 0.1–1 s of API time: at ×100 that is 1–10 ms real.
 * Latency is compressed with the clock, else a compressed minute would hold minutes of waiting.
 */
export function latencyFor(factor: number): [number, number] {
  return [Math.max(1, Math.round(100 / factor)), Math.max(1, Math.round(1_000 / factor))];
}

export interface RunningSimulator {
  sim: Simulator;
  url: string;
  /** A bearer token valid for the whole run (the simulator does not scale token lifetimes). */
  token: string;
  stop(): Promise<void>;
}

/**
 * Builds the simulator and listens on `host` (default 127.0.0.1), port 0. `beforeListen` may add
 * hooks to the app (it is not ready yet).
 */
export async function startSimulator(
  options: SimulatorOptions,
  host = '127.0.0.1',
  beforeListen?: (sim: Simulator) => void,
): Promise<RunningSimulator> {
  const sim = await buildSimulator(options);
  beforeListen?.(sim);
  const url = await sim.app.listen({ host, port: 0 });
  const token = sim.issueToken({ lifetimeSec: 24 * 3600 });
  return { sim, url, token, stop: () => sim.close() };
}

/** Deterministic, valid machine ids (40 lowercase hex), the same for one index in every run. */
export function machineId(index: number): string {
  return createHash('sha1').update(`fleetscan-bench-${index}`).digest('hex');
}

export function machineIds(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => machineId(offset + i));
}

/**
 * Healthy, reachable Windows devices; every `1 / busyShare`-th one already runs someone else's
 * scan (evenly spread, so every run of one size has the same busy devices).
 */
export function benchMachines(
  ids: readonly string[],
  busyShare = 0,
): NonNullable<SimulatorOptions['machines']> {
  const every = busyShare > 0 ? Math.round(1 / busyShare) : 0;
  return ids.map((id, i) => ({
    id,
    ...(every > 0 && i % every === every - 1 ? { simulation: { busyWithOtherScan: true } } : {}),
  }));
}

/** Writes one id per line (the plain-text device file format), streaming. */
export async function writeIdsFile(
  file: string,
  count: number,
  idAt: (i: number) => string,
): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    if (!out.write(`${idAt(i)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
