import type { Redis } from '../shared/redis.js';

export interface RedisHealth {
  reachable: boolean;
  /** `maxmemory-policy` as Redis reports it; null when unreachable or not readable. */
  evictionPolicy: string | null;
  /** Reachable and, when required, `noeviction`. */
  ready: boolean;
  problem: string | null;
}

/**
 * Asks Redis whether it is up and whether it may evict keys. Any policy but `noeviction` can drop
 * BullMQ's job keys or a campaign's records under memory pressure, silently losing devices.
 * Managed Redis services that forbid CONFIG are read through `INFO memory` instead.
 */
export async function checkRedis(
  redis: Redis,
  requireNoEviction: boolean,
  timeoutMs = 2_000,
): Promise<RedisHealth> {
  let evictionPolicy: string | null;
  try {
    // ioredis queues commands while reconnecting; a probe must answer now or say no.
    await withTimeout(redis.ping(), timeoutMs);
  } catch (error) {
    const problem = `Redis unreachable: ${(error as Error).message}`;
    return { reachable: false, evictionPolicy: null, ready: false, problem };
  }
  try {
    evictionPolicy = await withTimeout(readEvictionPolicy(redis), timeoutMs);
  } catch {
    evictionPolicy = null;
  }
  const evicts = evictionPolicy !== 'noeviction';
  const problem =
    requireNoEviction && evicts
      ? `Redis maxmemory-policy is ${evictionPolicy ?? 'unknown'}, not noeviction: jobs could be ` +
        'evicted (set maxmemory-policy noeviction, or FLEETSCAN_REQUIRE_NOEVICTION=false)'
      : null;
  return { reachable: true, evictionPolicy, ready: problem === null, problem };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms}ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

async function readEvictionPolicy(redis: Redis): Promise<string | null> {
  try {
    const reply: unknown = await redis.config('GET', 'maxmemory-policy');
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch {
    // CONFIG disabled or renamed: fall through to INFO
  }
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}
