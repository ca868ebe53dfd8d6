import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../shared/package-root.js';
import { runScript, scriptSource, type ScriptRedis, type ScriptSource } from './run-script.js';

export type { ScriptRedis } from './run-script.js';

/**
 * Every Lua script of fleetscan, one file each beside this module (docs/design.md "Lua
 * scripts"). The suffix is the key count: `-3` takes exactly three keys, `-n` a count that
 * varies with the budget's windows (the caller passes numkeys, as EVALSHA always does).
 */
export const LUA_SCRIPTS = [
  'acquire-n',
  'adapt-apply-3',
  'adapt-read-n',
  'add-devices-3',
  'breaker-admit-1',
  'breaker-clear-1',
  'breaker-release-1',
  'breaker-trip-1',
  'campaign-priority-1',
  'campaign-reconcile-done-1',
  'campaign-reconcile-request-1',
  'cancel-devices-2',
  'cancel-sweep-2',
  'create-campaign-1',
  'dispatch-n',
  'lane-campaign-5',
  'lane-finish-8',
  'lane-push-7',
  'lane-renew-1',
  'lifecycle-meta-2',
  'lock-drop-1',
  'lock-renew-1',
  'lock-take-1',
  'lock-take-fenced-2',
  'merge-device-fields-1',
  'release-n',
  'requeue-failed-3',
  'schedule-advance-4',
  'schedule-complete-3',
  'schedule-record-run-1',
  'set-state-2',
  'settle-n',
  'store-epoch-1',
  'store-loss-1',
  'throttle-1',
  'track-statuses-2',
  'transition-3',
  'update-statuses-1',
  'usage-n',
] as const;
export type LuaScriptName = (typeof LUA_SCRIPTS)[number];

export interface LuaScript {
  readonly name: LuaScriptName;
  /** The key count the file name states; null for `-n` (varies with the windows). */
  readonly numberOfKeys: number | null;
  /** The text with its includes resolved, and its SHA (read once, on first use). */
  source(): ScriptSource;
  /** EVALSHA, or EVAL on NOSCRIPT; refuses a key count other than the file name's. */
  run(
    redis: ScriptRedis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>;
}

/** BullMQ's include line: `--- @include "includes/name"` (path relative to this folder). */
const INCLUDE = /^--- @include "([a-z0-9/-]+)"[ \t]*$/gm;

/**
 * Reads `${path}.lua` beside this module (dist/src/lua after the build's copy-assets); a build
 * that skipped the copy falls back to the source tree instead of failing every command.
 */
function readLua(path: string): string {
  try {
    return readFileSync(new URL(`./${path}.lua`, import.meta.url), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return readFileSync(join(packageRoot(), 'src', 'lua', `${path}.lua`), 'utf8');
  }
}

/**
 * Replaces every include line by the included file, itself resolved; each file goes in once per
 * script (a second include of it is dropped), so includes may include what they need.
 */
export function resolveIncludes(
  text: string,
  read: (path: string) => string,
  from: string,
  seen: Set<string> = new Set(),
): string {
  return text.replace(INCLUDE, (_line, path: string) => {
    if (seen.has(path)) return '';
    seen.add(path);
    let included: string;
    try {
      included = read(path);
    } catch (error) {
      throw new Error(`Lua script ${from} includes "${path}", which cannot be read`, {
        cause: error,
      });
    }
    return resolveIncludes(included, read, path, seen);
  });
}

/** The key count a script's name states: `name-3` → 3, `name-n` → null. */
export function keyCountOf(name: string): number | null {
  const suffix = /-(\d+|n)$/.exec(name)?.[1];
  if (suffix === undefined) throw new Error(`Lua script ${name} has no key count in its name`);
  return suffix === 'n' ? null : Number(suffix);
}

const registry = new Map<LuaScriptName, LuaScript>();

/** The script of that name (one object per process, read on first use). */
export function luaScript(name: LuaScriptName): LuaScript {
  let script = registry.get(name);
  if (script) return script;
  const numberOfKeys = keyCountOf(name);
  let loaded: ScriptSource | undefined;
  const source = () => (loaded ??= scriptSource(resolveIncludes(readLua(name), readLua, name)));
  script = {
    name,
    numberOfKeys,
    source,
    async run(redis, keys, args) {
      if (numberOfKeys !== null && keys.length !== numberOfKeys) {
        throw new RangeError(`Lua script ${name} takes ${numberOfKeys} keys, got ${keys.length}`);
      }
      return runScript(redis, source(), keys, args);
    },
  };
  registry.set(name, script);
  return script;
}
