import { createHash } from 'node:crypto';
import type { Redis } from '../shared/redis.js';

/** A Redis connection or a Cluster (scripts whose keys share one hash tag run on either). */
export type ScriptRedis = Redis;

/** A Lua script's text (includes resolved) and the SHA-1 that EVALSHA names it by. */
export interface ScriptSource {
  source: string;
  sha: string;
}

export function scriptSource(source: string): ScriptSource {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * EVALSHA, falling back to EVAL when the server does not know the script yet (first use, a
 * restart, SCRIPT FLUSH, or a failover to a replica); EVAL also caches it for the next call.
 * ioredis's defineCommand does the same per connection; this works on any connection or Cluster
 * without registering commands on it.
 */
export async function runScript(
  redis: ScriptRedis,
  script: ScriptSource,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
