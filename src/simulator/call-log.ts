import { createWriteStream, type WriteStream } from 'node:fs';

/** Who a call was counted for: an endpoint family of the API, or the Entra side. */
export const CALL_FAMILIES = [
  'scan',
  'machineActions',
  'cancel',
  'machines',
  'entra',
  'hunting',
  /** Graph's security incidents and alerts. */
  'security',
  'unrouted',
] as const;
export type CallFamily = (typeof CALL_FAMILIES)[number];
export const API_FAMILIES = ['scan', 'machineActions', 'cancel', 'machines'] as const;
export type ApiFamily = (typeof API_FAMILIES)[number];

/** One line of the call log (NDJSON) and one entry of `sim.calls()`. */
export interface CallRecord {
  /** Arrival time, ms since the epoch on the simulator's clock. */
  t: number;
  method: string;
  /** Path and query as requested. */
  path: string;
  family: CallFamily;
  status: number;
  code: string | null;
  machineId: string | null;
  /** Action created by this call (also when its reply was lost). */
  actionId: string | null;
  /** Existing action this call answered with (201 for a device that was already busy). */
  existingActionId: string | null;
  /** The reply never reached the caller intact (socket destroyed or turned into a 502). */
  lost: boolean;
  /** Client id of the caller, when its token was valid. */
  appId: string | null;
  /** Time from arrival to reply, ms. */
  durationMs: number;
  /** The simulated network delay before arrival (the request leg of the latency), ms. */
  requestLegMs?: number;
}

/** In-memory log plus an optional NDJSON file, one line per call. */
export class CallLog {
  private readonly records: CallRecord[] = [];
  private readonly file: WriteStream | undefined;

  constructor(file?: string) {
    this.file = file ? createWriteStream(file, { flags: 'a' }) : undefined;
  }

  /** Resolves once the file is open, so that a bad path fails at start rather than later. */
  async open(): Promise<void> {
    const file = this.file;
    if (!file?.pending) return;
    await new Promise<void>((resolve, reject) => {
      file.once('ready', () => {
        resolve();
      });
      file.once('error', reject);
    });
  }

  add(record: CallRecord): void {
    this.records.push(record);
    this.file?.write(`${JSON.stringify(record)}\n`);
  }

  all(): readonly CallRecord[] {
    return this.records;
  }

  /** Flushes and closes the file, if any. */
  async close(): Promise<void> {
    const file = this.file;
    if (!file || file.closed) return;
    await new Promise<void>((resolve, reject) => {
      file.end((error?: Error | null) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }
}

/**
 * The largest number of arrivals inside any window of `windowMs` (both ends included, as the
 * simulator counts). Pure: tests and the benchmark run it over `calls()` or the NDJSON log to
 * prove "never more than the cap in any sliding window".
 */
export function maxInAnyWindow(arrivalTimesMs: readonly number[], windowMs: number): number {
  const sorted = [...arrivalTimesMs].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    const endTime = sorted[end] ?? 0;
    while ((sorted[start] ?? 0) < endTime - windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
