import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';
import { clusterMasters, describeRedisUrl, type Redis } from '../shared/redis.js';
import { explainRedisError } from '../shared/redis-errors.js';

/** Redis is set up so that it may drop keys (and so lose jobs and campaign records). */
export class RedisEvictionError extends Error {
  override name = 'RedisEvictionError';
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Waits for Redis to answer, retrying with growing pauses (0.25 s up to 5 s) and saying so in the
 * log each time, so a worker started while Redis restarts comes up by itself. Gives up after
 * `timeoutMs` with a message naming the (password-less) URL.
 */
export async function waitForRedis(
  redis: Redis,
  options: { url: string; log: Logger; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<void> {
  const started = Date.now();
  const where = describeRedisUrl(options.url);
  // The ping's own rejection can be a bland "Connection is closed"; the socket's error says why.
  let lastError: unknown;
  const remember = (error: unknown) => {
    lastError = error;
  };
  redis.on('error', remember);
  let pause = 250;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await withTimeout(redis.ping(), 2_000);
        if (attempt > 1) options.log.info({ redis: where }, 'Redis answers again');
        return;
      } catch (error) {
        options.signal?.throwIfAborted();
        const problem = explainRedisError(lastError ?? error, where);
        if (problem.lasting) throw new RedisUnavailableError(problem.message);
        if (Date.now() - started + pause > options.timeoutMs) {
          throw new RedisUnavailableError(
            `${problem.message} Gave up after ${Math.round((Date.now() - started) / 1000)} s.`,
          );
        }
        options.log.warn(
          { redis: where, attempt, retryInMs: pause, reason: problem.message },
          'Redis unreachable, retrying',
        );
        lastError = undefined;
        await sleep(pause, options.signal);
        pause = Math.min(pause * 2, 5_000);
      }
    }
  } finally {
    redis.off('error', remember);
  }
}

/**
 * Refuses a Redis whose `maxmemory-policy` may evict keys: BullMQ jobs and campaign records would
 * vanish silently under memory pressure. Read through INFO, which managed Redis services allow
 * even where CONFIG is disabled.
 */
export async function assertNoEviction(
  redis: Redis,
  required: boolean,
  log: Logger,
): Promise<void> {
  // Every master of a cluster: one that may evict loses the campaigns whose slots it serves.
  const infos = await Promise.all(clusterMasters(redis).map((node) => node.info('memory')));
  const policies = infos.map((info) => /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? 'unknown');
  const policy = policies.find((p) => p !== 'noeviction');
  if (policy === undefined) return;
  if (!required) {
    log.warn(
      { policy },
      'Redis may evict keys (maxmemory-policy is not noeviction); continuing as configured',
    );
    return;
  }
  throw new RedisEvictionError(
    `Redis maxmemory-policy is "${policy}", which can silently drop jobs and campaign records. ` +
      'Set it to noeviction (CONFIG SET maxmemory-policy noeviction, or in redis.conf), or set ' +
      'redis.requireNoEviction: false (FLEETSCAN_REQUIRE_NOEVICTION=false) to run anyway.',
  );
}

/** Logs an outage once when it starts and once when it ends, instead of once per reconnect. */
export function watchRedis(redis: Redis, log: Logger, role: string): void {
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ role, reason: error.message }, 'Redis connection lost, reconnecting with backoff');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ role }, 'Redis connection restored');
  });
}

/** Sleeps `ms`, or rejects as soon as `signal` aborts (a stop signal during start-up). */
async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
