import { formatDuration } from '../../../config/duration.js';
import { NO_WORKERS_FIX } from '../../../ops/worker-presence.js';
import type { Clock } from '../../../shared/clock.js';
import type { OutageRider } from '../../../runtime/redis-outage.js';

/** What one look shows: the progress line, whether it is over, whether work waits for a worker. */
export interface FollowView {
  line: string;
  done: boolean;
  /** Devices wait and no live worker serves them. */
  noWorkers: boolean;
}

export interface FollowOptions {
  intervalMs: number;
  /** `--warn-without-workers`: how long work may wait without a worker before a warning. */
  warnWithoutWorkersMs: number;
  /** Progress goes here; warnings and outage messages too (stderr with --json). */
  out: NodeJS.WriteStream;
  clock: Clock;
  /** Rides out Redis outages up to `redis.outageTolerance`. */
  outage: OutageRider;
  /** Called before each retry while Redis is away (reconnects an ended connection). */
  beforeRetry: () => void;
}

/** Lines to a non-TTY while waiting: at most one a minute unless something changed. */
const QUIET_LINE_MS = 60_000;

/**
 * Polls until `view` says done. Between looks it warns once when work has waited
 * `warnWithoutWorkersMs` without a live worker, and rides out Redis outages (one message when
 * Redis goes away and one when it is back; gives up after `redis.outageTolerance`).
 */
export async function follow<T>(
  read: () => Promise<T>,
  view: (status: T) => FollowView,
  options: FollowOptions,
): Promise<T> {
  const { out, clock, outage } = options;
  const tty = out.isTTY;
  let lastLine = '';
  let lastAt = 0;
  let idleSince: number | null = null;
  let warned = false;
  const say = (text: string) => {
    out.write(`${tty && lastLine !== '' ? '\n' : ''}${text}\n`);
    lastLine = '';
  };
  for (;;) {
    let status: T;
    try {
      status = await read();
      outage.succeeded();
    } catch (error) {
      outage.failed(error);
      options.beforeRetry();
      await clock.sleep(options.intervalMs);
      continue;
    }
    const { line, done, noWorkers } = view(status);
    if (tty) {
      out.write(`\r\x1b[2K${line}`);
    } else if (line !== lastLine || clock.now() - lastAt >= QUIET_LINE_MS) {
      out.write(`${line}\n`);
      lastAt = clock.now();
    }
    lastLine = line;
    if (done) {
      if (tty) out.write('\n');
      return status;
    }
    if (!noWorkers) {
      idleSince = null;
      warned = false;
    } else {
      idleSince ??= clock.now();
      if (!warned && clock.now() - idleSince >= options.warnWithoutWorkersMs) {
        warned = true;
        say(
          `Warning: devices have waited ${formatDuration(clock.now() - idleSince)} with no live worker, ` +
            `so nothing is being called for. ${NO_WORKERS_FIX}`,
        );
      }
    }
    await clock.sleep(options.intervalMs);
  }
}
