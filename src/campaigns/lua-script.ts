import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from '../shared/redis.js';
import { runScript, scriptSource, type ScriptSource } from '../shared/lua-script.js';
import { packageRoot } from '../shared/package-root.js';

/** A Lua script from `./lua/`, run by EVALSHA and sent whole on the first NOSCRIPT (`runScript`). */
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
  let loaded: ScriptSource | undefined;
  return {
    async run(redis, keys, args) {
      loaded ??= scriptSource(readSource(name));
      return await runScript(redis, loaded, keys, args);
    },
  };
}
