import type { ApiCallEvent } from '../defender/call.js';
import { isCluster, type Redis } from '../shared/redis.js';
import { callTimelineKey, campaignOfCall, timelineField } from './call-timeline.js';

export interface ApiCallCount {
  family: string;
  status: number;
  count: number;
}

const apiKey = (prefix: string) => `${prefix}:stats:api`;
const durationKey = (prefix: string) => `${prefix}:stats:api-ms`;
const tokenKey = (prefix: string) => `${prefix}:stats:tokens`;

/**
 * How long a long-running process (worker, dashboard, API) keeps its call counts before writing
 * them: one pipeline a second instead of three writes per call (issue 26: a tenth of a worker's
 * CPU per call). It is the staleness bound of `/metrics`, `status` and the reports' timelines as
 * other processes read them.
 */
export const CALL_STATS_FLUSH_MS = 1_000;

export interface CallStatsOptions {
  /** Bucket of the campaigns' call timelines (`timelineBucketMs(limits.windows)`); default 1 min. */
  timelineBucketMs?: number;
  /**
   * Counts are kept in memory for up to this long, then written in one pipeline (`flush()`
   * writes them at once; call it before the connection closes). 0 (default): written at each
   * call, for short-lived commands that may exit right after it.
   */
  flushMs?: number;
  now?: () => number;
}

/**
 * The longest a flush is waited for: during an outage Redis never answers, and a process that
 * closes must still exit (the counts are lost then, as a failed increment always was).
 */
const WRITE_WAIT_MS = 2_000;

/** `work`, or nothing after `ms`. */
function bounded(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => {
    clearTimeout(timer);
  });
}

/** Increments not written yet: key → field → amount. */
type Pending = Map<string, Map<string, number>>;

function add(pending: Pending, key: string, field: string, by: number): void {
  let fields = pending.get(key);
  if (!fields) {
    fields = new Map();
    pending.set(key, fields);
  }
  fields.set(field, (fields.get(field) ?? 0) + by);
}

/**
 * Counts API calls in Redis so that `/metrics`, served by one process, covers the calls of every
 * worker on every host; a call made for a campaign (`callsFor`) is counted in that campaign's
 * call timeline too, for its report. Fire-and-forget: a lost increment must never fail a scan.
 */
export function createCallStats(redis: Redis, prefix: string, options: CallStatsOptions = {}) {
  const bucketMs = options.timelineBucketMs ?? 60_000;
  const flushMs = options.flushMs ?? 0;
  const now = options.now ?? Date.now;
  let pending: Pending = new Map();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  /** Writes what is pending in one pipeline; resolves when Redis answered (never rejects). */
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return writing;
    const batch = pending;
    pending = new Map();
    const written = isCluster(redis) ? writeEach(redis, batch) : writePipeline(redis, batch);
    writing = Promise.all([writing, bounded(written, WRITE_WAIT_MS)]).then(() => undefined);
    return writing;
  };

  /** What this process counted and has not written yet, of one hash. */
  const pendingOf = (key: string): ReadonlyMap<string, number> => pending.get(key) ?? new Map();

  return {
    recordApiCall(event: ApiCallEvent): void {
      const campaignId = campaignOfCall();
      // A request that never left took no slot of the budget: the timeline shows what the caps count.
      if (campaignId !== undefined && event.notSent !== true) {
        const field = timelineField(event.family, now(), bucketMs);
        add(pending, callTimelineKey(prefix, campaignId), field, 1);
      }
      add(pending, apiKey(prefix), `${event.family}|${String(event.status)}`, 1);
      add(pending, durationKey(prefix), event.family, Math.max(0, Math.round(event.durationMs)));
      if (flushMs <= 0) void flush();
      else if (!timer) {
        timer = setTimeout(() => void flush(), flushMs);
        // Counting must not keep a process alive: its shutdown flushes.
        timer.unref();
      }
    },
    recordTokenRefresh(): void {
      redis.incr(tokenKey(prefix)).catch(() => undefined);
    },
    /** Writes the counts kept in memory now; call it before closing the connection. */
    flush,
    /** Every call counted so far, this process's unwritten counts included. */
    async readApiCalls(): Promise<ApiCallCount[]> {
      const fields = withPending(await redis.hgetall(apiKey(prefix)), pendingOf(apiKey(prefix)));
      return Object.entries(fields).map(([field, count]) => {
        const [family = '', status = '0'] = field.split('|');
        return { family, status: Number(status), count: Number(count) };
      });
    },
    /** Total time spent in API calls per endpoint family, in seconds (with the call counts: mean latency). */
    async readApiCallSeconds(): Promise<{ family: string; seconds: number }[]> {
      const key = durationKey(prefix);
      const fields = withPending(await redis.hgetall(key), pendingOf(key));
      return Object.entries(fields).map(([family, ms]) => ({
        family,
        seconds: Number(ms) / 1_000,
      }));
    },
    async readTokenRefreshes(): Promise<number> {
      return Number((await redis.get(tokenKey(prefix))) ?? 0);
    },
  };
}

/** One pipeline, one round trip (a single connection; never rejects). */
function writePipeline(redis: Redis, batch: Pending): Promise<void> {
  const pipeline = redis.pipeline();
  for (const [key, fields] of batch) {
    for (const [field, by] of fields) pipeline.hincrby(key, field, by);
  }
  return pipeline.exec().then(
    () => undefined,
    () => undefined,
  );
}

/** On a Cluster the hashes live in different slots, which one pipeline may not span. */
function writeEach(redis: Redis, batch: Pending): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const [key, fields] of batch) {
    for (const [field, by] of fields) writes.push(redis.hincrby(key, field, by).catch(() => 0));
  }
  return Promise.all(writes).then(() => undefined);
}

/** A hash as read from Redis plus the increments not written yet. */
function withPending(
  stored: Record<string, string>,
  unwritten: ReadonlyMap<string, number>,
): Record<string, string> {
  if (unwritten.size === 0) return stored;
  const merged = { ...stored };
  for (const [field, by] of unwritten) merged[field] = String(Number(merged[field] ?? 0) + by);
  return merged;
}

export type CallStats = ReturnType<typeof createCallStats>;
