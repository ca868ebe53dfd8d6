import { accessSync, constants, readFileSync } from 'node:fs';
import type { ConfigIssue } from './load.js';

interface RedisSection {
  password?: string | undefined;
  passwordFile?: string | undefined;
  tls: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };
}

/**
 * Reads the Redis password from `passwordFile` (a mounted secret) and checks that the TLS files
 * can be read, so a wrong path is a configuration error at start, not a connection that fails
 * later for a reason nobody sees.
 */
export function resolveRedisFiles<T extends RedisSection>(
  redis: T,
  sources: ReadonlyMap<string, string>,
): { redis: T; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const problem = (path: string, file: string, error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({
      path,
      source: sources.get(path) ?? 'configuration',
      message: `Cannot read ${file} (${code})`,
    });
  };
  let password = redis.password;
  if (redis.passwordFile !== undefined) {
    if (password !== undefined) {
      issues.push({
        path: 'redis.passwordFile',
        source: sources.get('redis.passwordFile') ?? 'configuration',
        message: 'Set either REDIS_PASSWORD or FLEETSCAN_REDIS_PASSWORD_FILE, not both',
      });
    } else {
      try {
        password = readFileSync(redis.passwordFile, 'utf8').trim() || undefined;
      } catch (error) {
        problem('redis.passwordFile', redis.passwordFile, error);
      }
    }
  }
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = redis.tls[key];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      problem(`redis.tls.${key}`, file, error);
    }
  }
  if ((redis.tls.certFile === undefined) !== (redis.tls.keyFile === undefined)) {
    issues.push({
      path: 'redis.tls.keyFile',
      source:
        sources.get('redis.tls.keyFile') ?? sources.get('redis.tls.certFile') ?? 'configuration',
      message: 'A client certificate needs its key, and a key its certificate',
    });
  }
  return { redis: { ...redis, password }, issues };
}
