import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliTestEnv, ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { taggedFleet } from '../contract/paging-kit.js';

let prefix: string;
let redis: Redis;

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(() => {
  prefix = uniquePrefix('large');
  redis = new Redis(testRedisUrl());
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('fleetscan scan on a tenant above 10,000 devices (the real paging)', () => {
  it('counts 25,000 for --all, 12,000 for --tag, and 0 for a tag nothing carries', async () => {
    await withSimulator({ machines: taggedFleet(25_000, 12_000, 'wave') }, async ({ url, sim }) => {
      const env = { ...cliTestEnv(prefix), MDE_API_URL: url, MDE_ACCESS_TOKEN: sim.issueToken() };
      const dry = (args: string[]) =>
        runCli(['scan', ...args, '--comment', 'sweep', '--dry-run', '--json'], { env });

      const started = performance.now();
      const all = await dry(['--all']);
      const allMs = performance.now() - started;
      expect(all.code, all.stderr).toBe(0);
      expect(JSON.parse(all.stdout)).toMatchObject({ source: 'all', devices: 25_000 });
      const allCalls = sim.calls().filter((c) => c.family === 'machines');
      expect(allCalls).toHaveLength(3);
      console.info(`25,000-device --all dry run: ${String(Math.round(allMs))} ms, 3 list calls`);

      const tagged = await dry(['--tag', 'wave']);
      expect(tagged.code, tagged.stderr).toBe(0);
      expect(JSON.parse(tagged.stdout)).toMatchObject({ devices: 12_000 });
      expect(sim.calls().filter((c) => c.family === 'machines')).toHaveLength(5);

      const none = await dry(['--tag', 'nobody-has-this']);
      expect(none.code, none.stderr).toBe(0);
      expect(JSON.parse(none.stdout)).toMatchObject({ devices: 0 });
      // A real scan of an empty target creates nothing and says why (exit 1, as every usage error).
      const empty = await runCli(['scan', '--tag', 'nobody-has-this', '--comment', 'x'], { env });
      expect(empty.code).toBe(1);
      expect(empty.stderr).toMatch(/No devices to scan in tag:nobody-has-this; no campaign/);
      expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
    });
  }, 180_000);
});
