import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Cluster, Redis } from 'ioredis';

/** A Redis connection or a Cluster: budget keys share one hash tag, so either runs the scripts. */
export type ScriptRedis = Redis | Cluster;

export const SCRIPT_NAMES = [
  'acquire-n',
  'settle-n',
  'release-n',
  'throttle-1',
  'usage-n',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export interface LuaScript {
  name: ScriptName;
  source: string;
  sha: string;
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
      return { name, source, sha: createHash('sha1').update(source).digest('hex') };
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

/**
 * EVALSHA, falling back to EVAL when the server does not know the script yet (first use, a
 * restart, SCRIPT FLUSH, or a failover to a replica); EVAL also caches it for the next call.
 */
export async function runScript(
  redis: ScriptRedis,
  script: LuaScript,
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
