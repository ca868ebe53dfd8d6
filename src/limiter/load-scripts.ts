import { readFile } from 'node:fs/promises';
import { scriptSource, type ScriptSource } from '../shared/lua-script.js';

/** Budget keys share one hash tag, so a Redis connection or a Cluster runs the scripts. */
export { runScript, type ScriptRedis } from '../shared/lua-script.js';

export const SCRIPT_NAMES = [
  'acquire-n',
  'settle-n',
  'release-n',
  'throttle-1',
  'usage-n',
  'adapt-read-n',
  'adapt-apply-n',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export interface LuaScript extends ScriptSource {
  name: ScriptName;
}

export type LimiterScripts = Readonly<Record<ScriptName, LuaScript>>;

let loading: Promise<LimiterScripts> | undefined;

/**
 * Reads the scripts once per process. They sit beside this module (`lua/`), in `src/` under
 * vitest and in `dist/src/` after the build copies them, hence the URL relative to the module.
 */
export function loadScripts(): Promise<LimiterScripts> {
  loading ??= Promise.all(
    SCRIPT_NAMES.map(async (name): Promise<LuaScript> => {
      const source = await readFile(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
      return { name, ...scriptSource(source) };
    }),
  ).then(
    (scripts) =>
      Object.fromEntries(scripts.map((script) => [script.name, script])) as Record<
        ScriptName,
        LuaScript
      >,
  );
  loading.catch(() => {
    loading = undefined; // a missing file is reported to the caller; let a later call try again
  });
  return loading;
}
