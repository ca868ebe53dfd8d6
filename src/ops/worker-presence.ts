import type { Redis } from '../shared/redis.js';
import { redisTimeMs } from '../shared/redis-time.js';

/** What one worker process says about itself, every heartbeat. */
export interface WorkerInfo {
  host: string;
  pid: number;
  concurrency: number;
  /** Tenants whose budgets this process dispatches. */
  tenants: readonly string[];
  /** The budget ids of those tenants (tenants of one API identity share one). */
  budgets?: readonly string[];
  startedAt: number;
  /** When it last finished a device (ms), or null. */
  lastJobAt: number | null;
}

export interface LiveWorker extends WorkerInfo {
  id: string;
  lastBeatAt: number;
}

export interface Heartbeat {
  /** Settles once the first beat is written (or failed). */
  ready: Promise<void>;
  /** Records that a device was just handled (shown as "last job"). */
  noteJob(at?: number): void;
  /** Stops beating and removes this process from the list at once (a clean shutdown). */
  stop(): Promise<void>;
}

/** How often a worker process says it is alive; readers use the same value. */
export const WORKER_HEARTBEAT_MS = 5_000;

/** Missed beats after which a process counts as gone (killed, frozen, cut off). */
const MISSED_BEATS = 3;

const membersKey = (prefix: string) => `${prefix}:workers`;
const infoKey = (prefix: string) => `${prefix}:workers:info`;

/**
 * Announces a worker process in Redis every `intervalMs`: a sorted set of process ids by last
 * beat (so listing is one range read) plus their details. A process that stops beating drops
 * out of `listWorkers` after three intervals, whatever killed it. Beats are stamped with Redis
 * TIME unless `now` is given (tests); `now` also stamps "last job" (shown, never compared).
 */
export function startHeartbeat(
  redis: Redis,
  prefix: string,
  info: Omit<WorkerInfo, 'lastJobAt'>,
  options: { intervalMs: number; now?: () => number; onError?: (error: unknown) => void },
): Heartbeat {
  const now = options.now ?? Date.now;
  const id = `${info.host}:${String(info.pid)}`;
  let lastJobAt: number | null = null;
  const beat = async () => {
    // Beats on Redis TIME: readers on other hosts compare them with their cut-off, and a host
    // whose clock is 30 s behind must not look dead (nor a dead one alive for 30 s more).
    const at = options.now ? options.now() : await redisTimeMs(redis);
    // Two commands, not MULTI: the keys are in two Redis Cluster slots. Details first, so a
    // listed member always has them.
    await redis.hset(infoKey(prefix), id, JSON.stringify({ ...info, lastJobAt }));
    await redis.zadd(membersKey(prefix), at, id);
  };
  const report = (error: unknown) => {
    options.onError?.(error);
  };
  const ready = beat().catch(report);
  const timer = setInterval(() => {
    beat().catch(report);
  }, options.intervalMs);
  timer.unref();
  return {
    ready,
    noteJob(at = now()) {
      lastJobAt = at;
    },
    async stop() {
      clearInterval(timer);
      await redis.zrem(membersKey(prefix), id);
      await redis.hdel(infoKey(prefix), id);
    },
  };
}

/**
 * The worker processes that beat within the last three intervals; the details of those that
 * did not are removed on the way (a process killed with SIGKILL never says goodbye). The
 * cut-off is on Redis TIME, as the beats are, unless `now` is given (tests).
 */
export async function listWorkers(
  redis: Redis,
  prefix: string,
  options: { intervalMs: number; now?: () => number },
): Promise<LiveWorker[]> {
  const now = options.now ? options.now() : await redisTimeMs(redis);
  const cutoff = now - MISSED_BEATS * options.intervalMs;
  const stale = await redis.zrangebyscore(membersKey(prefix), '-inf', `(${String(cutoff)}`);
  if (stale.length > 0) {
    await redis.zrem(membersKey(prefix), ...stale);
    await redis.hdel(infoKey(prefix), ...stale);
  }
  const live = await redis.zrangebyscore(membersKey(prefix), cutoff, '+inf', 'WITHSCORES');
  const ids: string[] = [];
  const beats: number[] = [];
  for (let i = 0; i < live.length; i += 2) {
    ids.push(live[i] ?? '');
    beats.push(Number(live[i + 1]));
  }
  if (ids.length === 0) return [];
  const details = await redis.hmget(infoKey(prefix), ...ids);
  return ids.flatMap((id, i) => {
    const text = details[i];
    if (!text) return [];
    const info = JSON.parse(text) as WorkerInfo;
    return [{ ...info, id, lastBeatAt: beats[i] ?? 0 }];
  });
}

/** Live workers serving one tenant. */
export function workersOf(workers: readonly LiveWorker[], tenant: string): LiveWorker[] {
  return workers.filter((worker) => worker.tenants.includes(tenant));
}

/**
 * A campaign that still has devices to call for and no live worker serving its tenant: nothing
 * moves, so readers say "no workers" instead of an ETA. Paused and ended campaigns do not wait
 * for a worker.
 */
export function lacksWorkers(
  campaign: { state: string; tenant: string; counts: { queued: number; deferred: number } },
  workers: readonly LiveWorker[],
): boolean {
  return (
    campaign.state === 'running' &&
    campaign.counts.queued + campaign.counts.deferred > 0 &&
    workersOf(workers, campaign.tenant).length === 0
  );
}

/** `host pid 1234, 8 at once, budgets a, b, last job 14:02:11Z` for status and the dashboard. */
export function describeWorker(worker: LiveWorker): string {
  const budgets = worker.budgets ?? worker.tenants;
  const lastJob =
    worker.lastJobAt === null
      ? 'no job yet'
      : `last job ${new Date(worker.lastJobAt).toISOString().slice(11, 19)}Z`;
  return (
    `${worker.host} pid ${String(worker.pid)}, ${String(worker.concurrency)} at once, ` +
    `budget${budgets.length === 1 ? '' : 's'} ${budgets.join(', ')}, ${lastJob}`
  );
}

/** What to do when no worker runs: one sentence for status, the dashboard and the warning. */
export const NO_WORKERS_FIX =
  'Start one with `fleetscan worker` (same configuration and tenants as this campaign).';
