import { Redis, type RedisOptions } from 'ioredis';

export type { Redis } from 'ioredis';

export interface RedisConnectOptions {
  /** BullMQ workers need `maxRetriesPerRequest: null` on their blocking connections. */
  forBullmq?: boolean;
  /** Fail the first command fast instead of queueing it while Redis is down (CLI commands). */
  failFast?: boolean;
  connectionName?: string;
}

/** One place where ioredis connections are made, so every one has the same settings. */
export function createRedis(url: string, options: RedisConnectOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: true,
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
    ...(options.failFast
      ? { maxRetriesPerRequest: 1, retryStrategy: (times: number) => (times > 2 ? null : 200) }
      : { retryStrategy: (times: number) => Math.min(times * 200, 5_000) }),
  };
  return new Redis(url, redisOptions);
}

/** Strips the password from a Redis URL so it can be logged or printed. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>';
  }
}
