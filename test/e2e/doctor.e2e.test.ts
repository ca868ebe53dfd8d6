import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/ops/doctor/check-result.js';
import {
  startHeartbeat,
  WORKER_HEARTBEAT_MS,
  type Heartbeat,
} from '../../src/ops/worker-presence.js';
import { startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import type { SimulatorOptions } from '../../src/simulator/options.js';
import {
  createSelfSignedCertificate,
  type SelfSignedCertificate,
} from '../../src/simulator/tls.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';

interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

let dir: string;
let tls: SelfSignedCertificate;
let ownRedis: OwnRedis;
let worker: Heartbeat | undefined;
let workerConnection: Redis | undefined;
const prefix = uniquePrefix('doctor');

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-doctor-'));
  tls = await createSelfSignedCertificate();
  writeFileSync(join(dir, 'ca.pem'), tls.cert);
  // The healthy Redis: AOF on, noeviction (startRedisServer's defaults with aof).
  ownRedis = await startRedisServer({ aof: true });
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  workerConnection?.disconnect();
  await ownRedis.stop();
  await cleanupPrefix(testRedisUrl(), prefix);
  rmSync(dir, { recursive: true, force: true });
});

/** A live worker's heartbeat in `url`: what `fleetscan worker` writes while it runs. */
async function startWorker(url: string): Promise<void> {
  workerConnection = new Redis(url, { maxRetriesPerRequest: null });
  workerConnection.on('error', () => undefined);
  worker = startHeartbeat(
    workerConnection,
    prefix,
    { host: 'doctor-test', pid: 1, concurrency: 8, tenants: ['default'], startedAt: Date.now() },
    { intervalMs: WORKER_HEARTBEAT_MS },
  );
  await worker.ready;
}

async function doctor(
  simOptions: SimulatorOptions,
  env: (sim: { url: string; secret: string }) => NodeJS.ProcessEnv,
): Promise<{ code: number | null; report: DoctorReport; text: string }> {
  return withSimulator({ fleet: 5, tls, ...simOptions }, async ({ url, sim }) => {
    const base = {
      REDIS_URL: ownRedis.url,
      FLEETSCAN_PREFIX: prefix,
      MDE_API_URL: url,
      MDE_AUTHORITY_HOST: url,
      MDE_TENANT_ID: sim.credentials.tenantId,
      MDE_CLIENT_ID: sim.credentials.clientId,
      MDE_CLIENT_SECRET: sim.credentials.clientSecret,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      ...env({ url, secret: sim.credentials.clientSecret }),
    };
    const json = await runCli(['doctor', '--json'], { env: base });
    const text = await runCli(['doctor'], { env: base });
    expect(text.code).toBe(json.code);
    return {
      code: json.code,
      report: JSON.parse(json.stdout) as DoctorReport,
      text: text.stdout,
    };
  });
}

const find = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id);

describe('fleetscan doctor', { timeout: 120_000 }, () => {
  it('reports a healthy setup all ✔ and exits 0', async () => {
    await startWorker(ownRedis.url);
    const { code, report, text } = await doctor({}, () => ({}));
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    for (const id of [
      'config.valid',
      'redis.reachable',
      'redis.version',
      'redis.eviction',
      'redis.memory',
      'redis.persistence',
      'redis.transport',
      'redis.clock',
      'redis.store',
      'redis.workers',
      'tenant.token',
      'tenant.permission.scan',
      'tenant.permission.read',
      'tenant.api',
      'throttling.scan',
      'throttling.breaker',
    ]) {
      expect(find(report, id)?.status, id).toBe('ok');
    }
    expect(find(report, 'redis.workers')?.summary).toMatch(/live worker processes: 1/);
    expect(find(report, 'tenant.graph')?.summary).toMatch(
      /^Graph not checked: verify is off \(verify\.enabled false, no GRAPH_API_URL/,
    );
    expect(find(report, 'tenant.token')?.summary).toMatch(/token obtained \(secret\), expires/);
    expect(text).toMatch(/^ {2}✔ maxmemory-policy is noeviction/m);
    expect(text).not.toMatch(/[⚠✖]/);
    expect(text).toMatch(/MDE_CLIENT_SECRET → defender\.clientSecret = set \(hidden\)/);
  });

  it('fails a Redis with allkeys-lru and says how to fix it', async () => {
    const admin = new Redis(ownRedis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const { code, report, text } = await doctor({}, () => ({}));
      expect(code).toBe(1);
      expect(find(report, 'redis.eviction')).toMatchObject({
        status: 'fail',
        fix: expect.stringMatching(/CONFIG SET maxmemory-policy noeviction/) as string,
      });
      expect(text).toMatch(/✖ maxmemory-policy is allkeys-lru.*\n\s+fix: Run CONFIG SET/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });

  it('warns above retention.memory.warnAt and says how many more devices fit', async () => {
    const admin = new Redis(ownRedis.url);
    const used = Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1]);
    // About 78 % used: above warnAt (70 %), below refuseAt (90 %), with room for the doctor's own
    // connection.
    await admin.config('SET', 'maxmemory', String(Math.round(used / 0.78)));
    try {
      const { code, report } = await doctor({}, () => ({}));
      expect(find(report, 'redis.memory')).toMatchObject({
        status: 'warn',
        summary: expect.stringMatching(
          /Redis memory [78]\d % used .* maxmemory\): room for about [\d,]+ more devices/,
        ) as string,
        fix: expect.stringMatching(/fleetscan prune/) as string,
      });
      expect(code).toBe(0);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });

  it('warns about a Redis without AOF and about no live workers', async () => {
    const { code, report } = await doctor({}, () => ({ REDIS_URL: testRedisUrl() }));
    expect(find(report, 'redis.persistence')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/appendonly yes/) as string,
    });
    expect(find(report, 'redis.workers')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/fleetscan worker/) as string,
    });
    // Warnings alone leave the exit status 0.
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
  });

  it('fails a token without Machine.Scan and names the permission to grant', async () => {
    const { code, report } = await doctor({ appRoles: ['Machine.Read.All'] }, () => ({}));
    expect(code).toBe(1);
    expect(find(report, 'tenant.permissions')?.summary).toBe(
      'roles in the token: Machine.Read.All',
    );
    expect(find(report, 'tenant.permission.scan')).toMatchObject({
      status: 'fail',
      tenant: 'default',
      fix: expect.stringMatching(/application permission Machine\.Scan.*admin consent/) as string,
    });
    expect(find(report, 'tenant.api')?.status).toBe('ok');
  });

  it('warns when the token may not read devices, and the API answers 403', async () => {
    const { report } = await doctor({ appRoles: ['Machine.Scan'] }, () => ({}));
    expect(find(report, 'tenant.permission.read')?.status).toBe('warn');
    expect(find(report, 'tenant.api')).toMatchObject({
      status: 'warn',
      summary: expect.stringMatching(/403 Forbidden/) as string,
    });
  });

  it('fails a wrong secret without echoing it', async () => {
    const { code, report, text } = await doctor({}, () => ({
      MDE_CLIENT_SECRET: 'wrong-secret-canary-41',
    }));
    expect(code).toBe(1);
    expect(find(report, 'tenant.token')).toMatchObject({
      status: 'fail',
      summary: expect.stringMatching(/AADSTS7000215/) as string,
      fix: expect.stringMatching(/MDE_CLIENT_SECRET to its Value/) as string,
    });
    expect(JSON.stringify(report) + text).not.toContain('wrong-secret-canary-41');
  });

  it('explains an untrusted certificate with NODE_EXTRA_CA_CERTS', async () => {
    const { code, report } = await doctor({}, () => ({ NODE_EXTRA_CA_CERTS: '' }));
    expect(code).toBe(1);
    expect(find(report, 'tenant.token')).toMatchObject({
      status: 'fail',
      summary: expect.stringMatching(
        /not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/,
      ) as string,
      fix: expect.stringMatching(/NODE_EXTRA_CA_CERTS/) as string,
    });
  });

  it('fails an unreachable Redis and still checks the tenant', async () => {
    const { code, report } = await doctor({}, () => ({ REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(code).toBe(1);
    expect(find(report, 'redis.reachable')?.status).toBe('fail');
    expect(find(report, 'tenant.token')?.status).toBe('ok');
    expect(find(report, 'tenant.api')?.status).toBe('warn');
  });

  it('refuses an unknown tenant and shows an example in --help', async () => {
    const unknown = await runCli(['doctor', '--tenant', 'contoso'], {
      env: { REDIS_URL: ownRedis.url },
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown tenant "contoso": configured tenants are default/);
    for (const command of [['doctor'], ['login'], ['logout'], ['auth', 'status']]) {
      const help = await runCli([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Example/);
    }
  });
});
