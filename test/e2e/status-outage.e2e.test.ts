import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import { ensureBuilt, spawnCli, waitForOutput } from '../helpers/cli.js';
import { uniquePrefix } from '../helpers/redis.js';

const hexId = (i: number) => i.toString(16).padStart(40, '0');
const servers: OwnRedis[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

afterEach(async () => {
  for (const server of servers.splice(0)) await server.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A private redis-server (AOF on, so a restart keeps the data) holding one waiting campaign. */
async function campaignOnOwnRedis(prefix: string) {
  const server = await startRedisServer({ aof: true });
  servers.push(server);
  dirs.push(server.dir);
  const redis = new Redis(server.url);
  const store = createCampaignStore(redis, prefix);
  const id = newCampaignId();
  await store.createCampaign({
    id,
    name: 'outage',
    scanType: 'Quick',
    comment: `c [fleetscan:${id}]`,
    createdAt: Date.now(),
    createdBy: 'test',
    source: 'test',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  await store.addDevices(id, [hexId(1), hexId(2)]);
  redis.disconnect();
  return { server, id };
}

function statusWait(server: OwnRedis, prefix: string, id: string, tolerance: string) {
  return spawnCli(['status', id, '--wait', '--interval', '200ms'], {
    env: {
      REDIS_URL: server.url,
      FLEETSCAN_PREFIX: prefix,
      FLEETSCAN_BUDGET_PREFIX: prefix,
      FLEETSCAN_REDIS_OUTAGE_TOLERANCE: tolerance,
      LOG_LEVEL: 'silent',
    },
  });
}

describe('status --wait through a Redis outage', () => {
  it('says Redis is away, waits, and follows the campaign to its end once Redis is back', async () => {
    const prefix = uniquePrefix('outage');
    const { server, id } = await campaignOnOwnRedis(prefix);
    const run = statusWait(server, prefix, id, '2m');
    await waitForOutput(run, (text) => text.includes(id));

    await server.kill('SIGKILL');
    await waitForOutput(run, (text) =>
      text.includes(
        `Redis is unreachable at redis://127.0.0.1:${String(server.port)}; retrying for up to 2m (redis.outageTolerance).`,
      ),
    );
    const again = await startRedisServer({ aof: true, port: server.port, dir: server.dir });
    servers.push(again);
    await waitForOutput(run, (text) => text.includes('Redis is reachable again'));

    const redis = new Redis(again.url);
    const store = createCampaignStore(redis, prefix);
    await store.markFailed(id, hexId(1), 'x');
    await store.markFailed(id, hexId(2), 'x');
    redis.disconnect();
    const result = await run.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Campaign ${id}`);
    expect(result.stdout + result.stderr).not.toMatch(/maxRetriesPerRequest|max retries/i);
  });

  it('gives up after redis.outageTolerance with one sentence and the fix', async () => {
    const prefix = uniquePrefix('outage');
    const { server, id } = await campaignOnOwnRedis(prefix);
    const run = statusWait(server, prefix, id, '1s');
    await waitForOutput(run, (text) => text.includes(id));
    await server.kill('SIGKILL');
    const result = await run.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `fleetscan: Redis has been unreachable at redis://127.0.0.1:${String(server.port)} for longer than 1s (redis.outageTolerance): start Redis or point REDIS_URL at it, then run the command again (raise FLEETSCAN_REDIS_OUTAGE_TOLERANCE to wait longer).`,
    );
    expect(result.stderr).not.toMatch(/maxRetriesPerRequest|max retries|ECONNREFUSED/);
  });
});
