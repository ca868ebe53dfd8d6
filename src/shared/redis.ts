import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';

export type { Redis } from 'ioredis';

/** Where Redis is and how to prove who we are: `config.redis`, or a bare URL. */
export interface RedisTarget {
  readonly url: string;
  /** ACL user; overrides one in the URL. */
  readonly username?: string | undefined;
  /** Overrides one in the URL; from REDIS_PASSWORD or a file (config/load.ts). */
  readonly password?: string | undefined;
  readonly tls?:
    | {
        /** PEM of the CA that signed Redis's certificate (a private CA or a self-signed one). */
        readonly caFile?: string | undefined;
        /** Client certificate and key, for a Redis that asks for them (`tls-auth-clients yes`). */
        readonly certFile?: string | undefined;
        readonly keyFile?: string | undefined;
      }
    | undefined;
}

export interface RedisConnectOptions {
  /** BullMQ workers need `maxRetriesPerRequest: null` on their blocking connections. */
  forBullmq?: boolean;
  /** Fail the first command fast instead of queueing it while Redis is down (CLI commands). */
  failFast?: boolean;
  connectionName?: string;
}

/** One place where ioredis connections are made, so every one has the same settings. */
export function createRedis(
  target: string | RedisTarget,
  options: RedisConnectOptions = {},
): Redis {
  const settings: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: true,
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
    ...(options.failFast
      ? { maxRetriesPerRequest: 1, retryStrategy: (times: number) => (times > 2 ? null : 200) }
      : { retryStrategy: (times: number) => Math.min(times * 200, 5_000) }),
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    ...tlsOptions(settings),
  };
  return new Redis(settings.url, redisOptions);
}

function tlsOptions(settings: RedisTarget): Pick<RedisOptions, 'tls'> {
  const files = settings.tls ?? {};
  const wantsTls = settings.url.startsWith('rediss://');
  if (!wantsTls) return {};
  return {
    tls: {
      ...(files.caFile ? { ca: readFileSync(files.caFile) } : {}),
      ...(files.certFile ? { cert: readFileSync(files.certFile) } : {}),
      ...(files.keyFile ? { key: readFileSync(files.keyFile) } : {}),
    },
  };
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
