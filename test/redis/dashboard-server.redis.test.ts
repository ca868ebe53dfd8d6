import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/runtime/serve-api.js';
import { DashboardBindError, startDashboardServer } from '../../src/runtime/dashboard-server.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/shared/logger.js';
import { freePort, startRedisServer } from '../../src/shared/redis-server.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'srv-token-0123456789abcdef0123456789';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function configFor(redisUrl: string, overrides: Record<string, unknown> = {}) {
  const prefix = uniquePrefix('dashsrv');
  // Private Redis servers go away whole; only the shared test Redis needs its keys removed.
  if (redisUrl === testRedisUrl()) closers.push(() => cleanupPrefix(redisUrl, prefix));
  return loadConfig({
    env: {},
    overrides: {
      'redis.url': redisUrl,
      'redis.prefix': prefix,
      'redis.budgetPrefix': prefix,
      'dashboard.port': 0,
      ...overrides,
    },
  });
}

/** A logger whose JSON lines the test can read. */
function logSink() {
  const lines: { level: number; msg: string }[] = [];
  const log = createLogger(
    { level: 'info' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as { level: number; msg: string });
      },
    },
  );
  return { log, messages: () => lines.map((l) => l.msg) };
}

describe('fleetscan dashboard (server start)', () => {
  it('starts while Redis is still down, retrying with backoff, and serves once it is up', async () => {
    const port = await freePort();
    const sink = logSink();
    const starting = startDashboardServer(configFor(`redis://127.0.0.1:${port}`), {
      log: sink.log,
    });
    await expect
      .poll(() => sink.messages(), { timeout: 8_000 })
      .toContain('Redis unreachable, retrying');
    const redis = await startRedisServer({ port });
    closers.push(() => redis.stop());
    const server = await starting;
    closers.push(() => server.close());

    expect(server.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${server.address}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.address}/readyz`)).status).toBe(200);
    // No credentials configured: it says so, and this machine may look without any.
    expect(sink.messages()).toContain(
      'no dashboard credentials configured: serving on loopback only',
    );
    expect((await fetch(`${server.address}/`)).status).toBe(200);
  });

  it('refuses a non-loopback bind without credentials, before touching Redis', async () => {
    const start = startDashboardServer(
      configFor('redis://127.0.0.1:1', { 'dashboard.host': '0.0.0.0' }),
    );
    await expect(start).rejects.toThrow(DashboardBindError);
    await expect(start).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without credentials/);
  });

  it('refuses a non-loopback bind without TLS unless --insecure-bind, before touching Redis', async () => {
    const start = startDashboardServer(
      configFor('redis://127.0.0.1:1', {
        'dashboard.host': '0.0.0.0',
        'dashboard.token': TOKEN,
      }),
    );
    await expect(start).rejects.toThrow(DashboardBindError);
    await expect(start).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without TLS: pass --tls-cert and --tls-key/,
    );
  });

  it('binds a non-loopback address with a token over TLS and refuses requests without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscan-dash-tls-'));
    closers.push(() => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    });
    const tls = await createSelfSignedCertificate(['localhost']);
    writeFileSync(join(dir, 'cert.pem'), tls.cert);
    writeFileSync(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
    const config = configFor(testRedisUrl(), {
      'dashboard.host': '0.0.0.0',
      'dashboard.token': TOKEN,
      'dashboard.tlsCert': join(dir, 'cert.pem'),
      'dashboard.tlsKey': join(dir, 'key.pem'),
      'log.level': 'silent',
    });
    const server = await startDashboardServer(config);
    closers.push(() => server.close());
    expect(server.address).toMatch(/^https:/);
    const url = server.address.replace('0.0.0.0', '127.0.0.1');
    const status = (headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        https
          .get(`${url}/`, { ca: tls.cert, servername: 'localhost', headers }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await status()).toBe(401);
    expect(await status({ authorization: `Bearer ${TOKEN}` })).toBe(200);
  });

  it('serves the API alone over TLS, and refuses a non-loopback bind without it', async () => {
    await expect(
      startApiServer(configFor('redis://127.0.0.1:1', { 'api.host': '0.0.0.0' })),
    ).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without TLS: pass --tls-cert and --tls-key \(api\.tlsCert, api\.tlsKey\), or --insecure-bind/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'fleetscan-api-tls-'));
    closers.push(() => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    });
    const tls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'cert.pem'), tls.cert);
    writeFileSync(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
    const server = await startApiServer(
      configFor(testRedisUrl(), {
        'api.port': 0,
        'api.tlsCert': join(dir, 'cert.pem'),
        'api.tlsKey': join(dir, 'key.pem'),
        'log.level': 'silent',
      }),
    );
    closers.push(() => server.close());
    expect(server.address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(`${server.address}/healthz`, { ca: tls.cert }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
  });

  it('refuses a Redis that may evict keys unless told otherwise', async () => {
    const redis = await startRedisServer();
    closers.push(() => redis.stop());
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    admin.disconnect();

    await expect(
      startDashboardServer(configFor(redis.url, { 'log.level': 'silent' })),
    ).rejects.toThrow(/maxmemory-policy is "allkeys-lru"/);
    const server = await startDashboardServer(
      configFor(redis.url, { 'redis.requireNoEviction': false, 'log.level': 'silent' }),
    );
    closers.push(() => server.close());
    const ready = (await (await fetch(`${server.address}/readyz`)).json()) as {
      redis: { evictionPolicy: string };
    };
    expect(ready.redis.evictionPolicy).toBe('allkeys-lru');
  });

  it('rides out a Redis restart within redis.outageTolerance, saying so once each way', async () => {
    const redis = await startRedisServer({ aof: true });
    const sink = logSink();
    const server = await startDashboardServer(
      configFor(redis.url, { 'redis.outageTolerance': '2m' }),
      { log: sink.log },
    );
    let gaveUp = false;
    server.outage.catch(() => (gaveUp = true));

    await redis.kill('SIGKILL');
    const where = `redis://127.0.0.1:${String(redis.port)}`;
    await expect
      .poll(() => sink.messages(), { timeout: 20_000 })
      .toContain(
        `Redis is unreachable at ${where}; retrying for up to 2m (redis.outageTolerance).`,
      );
    const again = await startRedisServer({ aof: true, port: redis.port, dir: redis.dir });
    closers.push(() => again.stop());
    closers.push(() => server.close()); // closed while Redis is still there
    await expect
      .poll(() => sink.messages(), { timeout: 20_000 })
      .toContain(`Redis is reachable again at ${where}; continuing.`);
    expect((await fetch(`${server.address}/`)).status).toBe(200);
    expect(gaveUp).toBe(false);
  });

  it('gives up after redis.outageTolerance with one sentence and the fix', async () => {
    const redis = await startRedisServer();
    const sink = logSink();
    const server = await startDashboardServer(
      configFor(redis.url, { 'redis.outageTolerance': '1s' }),
      { log: sink.log },
    );
    closers.push(() => server.close());
    await redis.stop();
    await expect(server.outage).rejects.toThrow(
      `Redis has been unreachable at redis://127.0.0.1:${String(redis.port)} for longer than 1s (redis.outageTolerance): start Redis or point REDIS_URL at it, then run the command again (raise FLEETSCAN_REDIS_OUTAGE_TOLERANCE to wait longer).`,
    );
  });
});
