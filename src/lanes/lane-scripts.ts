import { readFileSync } from 'node:fs';
import { runScript, scriptSource, type ScriptSource } from '../shared/lua-script.js';
import type { ScriptRedis } from '../shared/lua-script.js';

export const LANE_SCRIPTS = ['dispatch-n', 'push-n', 'finish-n', 'campaign-n'] as const;
export type LaneScriptName = (typeof LANE_SCRIPTS)[number];

const loaded = new Map<LaneScriptName, ScriptSource>();

/** Runs `lua/${name}.lua` (beside this module in src/ and, after the build, in dist/src/). */
export async function runLaneScript(
  redis: ScriptRedis,
  name: LaneScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  let script = loaded.get(name);
  if (!script) {
    script = scriptSource(readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8'));
    loaded.set(name, script);
  }
  return runScript(redis, script, keys, args);
}
