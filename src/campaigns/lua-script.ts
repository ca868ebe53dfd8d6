import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { packageRoot } from '../shared/package-root.js';

/** A Lua script from `./lua/`, run by EVALSHA and loaded on the first NOSCRIPT. */
export interface LuaScript {
  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

/**
 * Reads `lua/${name}` beside this module on first use (copied to dist/ by scripts/copy-assets.js);
 * a build that skipped the copy falls back to the source tree instead of failing every command.
 */
function readSource(name: string): string {
  try {
    return readFileSync(new URL(`./lua/${name}`, import.meta.url), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return readFileSync(join(packageRoot(), 'src', 'campaigns', 'lua', name), 'utf8');
  }
}

export function loadLuaScript(name: string): LuaScript {
  let loaded: { source: string; sha: string } | undefined;
  const load = () => {
    if (loaded) return loaded;
    const source = readSource(name);
    loaded = { source, sha: createHash('sha1').update(source).digest('hex') };
    return loaded;
  };
  return {
    async run(redis, keys, args) {
      const { source, sha } = load();
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        // A restarted or flushed Redis forgets scripts: send the source once, it is cached again.
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
