import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeartbeat, WORKER_HEARTBEAT_MS } from '../../src/ops/worker-presence.js';
import { cliTestEnv, ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('health');
let redis: Redis;

/** A port nothing listens on: a server bound and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  await ensureBuilt();
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
}, 240_000);
afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('fleetscan healthcheck (the image HEALTHCHECK)', () => {
  it('exits 1 with the reason when nothing on this host is alive, 0 once a worker here beats', async () => {
    const env = cliTestEnv(prefix);
    const port = String(await closedPort());
    const down = await runCli(['healthcheck', '--port', port], { env });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^unhealthy: no worker on .* nothing answers \/healthz/);

    const beat = startHeartbeat(
      redis,
      prefix,
      { host: hostname(), pid: 4242, concurrency: 4, tenants: ['default'], startedAt: Date.now() },
      { intervalMs: WORKER_HEARTBEAT_MS },
    );
    await beat.ready;
    try {
      const up = await runCli(['healthcheck', '--port', port], { env });
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`healthy: a worker on ${hostname()} is beating`);
    } finally {
      await beat.stop();
    }
  });

  it('exits 0 when the dashboard on this host answers /healthz', async () => {
    const server: Server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : 404;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await runCli(['healthcheck', '--port', String(port)], {
        env: cliTestEnv(prefix),
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('healthy: the dashboard answers /healthz');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
