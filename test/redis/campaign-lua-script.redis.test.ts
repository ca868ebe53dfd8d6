import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScript, scriptSource } from '../../src/shared/lua-script.js';
import { testRedisUrl } from '../helpers/redis.js';

let redis: Redis;
beforeEach(() => {
  redis = new Redis(testRedisUrl());
});
afterEach(() => {
  redis.disconnect();
});

describe('runScript (shared by the limiter and the campaign store)', () => {
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
