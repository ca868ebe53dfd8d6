import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LUA_SCRIPTS, luaScript } from '../../src/lua/lua-scripts.js';
import { runScript, scriptSource } from '../../src/lua/run-script.js';
import { testRedisUrl } from '../helpers/redis.js';

let redis: Redis;
beforeEach(() => {
  redis = new Redis(testRedisUrl());
});
afterEach(() => {
  redis.disconnect();
});

describe('runScript (every script of src/lua/ runs through it)', () => {
  it('sends a script Redis does not know yet, then runs it by its SHA', async () => {
    // A text no server has seen: the first EVALSHA answers NOSCRIPT.
    const script = scriptSource(`return ARGV[1] .. '${randomUUID()}'`);
    expect(await redis.script('EXISTS', script.sha)).toEqual([0]);
    const first = await runScript(redis, script, [], ['x']);
    expect(first).toBe(`x${script.source.slice(-37, -1)}`);
    expect(await redis.script('EXISTS', script.sha)).toEqual([1]);
    await expect(runScript(redis, script, [], ['y'])).resolves.toMatch(/^y/);
  });

  it('passes other script errors through', async () => {
    const script = scriptSource(`return redis.error_reply('boom ${randomUUID()}')`);
    await expect(runScript(redis, script, [], [])).rejects.toThrow(/^boom/);
  });
});

describe('the Lua registry', () => {
  it.each(LUA_SCRIPTS)('%s compiles with its includes resolved', async (name) => {
    const { source, sha } = luaScript(name).source();
    expect(source).not.toMatch(/@include/);
    // SCRIPT LOAD compiles without running: a Lua syntax error or an unresolved name fails here.
    expect(await redis.script('LOAD', source)).toBe(sha);
  });

  it('refuses a call with another key count than the file name states', async () => {
    await expect(luaScript('throttle-1').run(redis, ['a', 'b'], ['', 1])).rejects.toThrow(
      'Lua script throttle-1 takes 1 keys, got 2',
    );
  });
});
