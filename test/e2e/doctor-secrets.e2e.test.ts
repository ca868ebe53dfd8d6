import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/ops/doctor/check-result.js';
import { startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import { ensureBuilt, runCli, type CliResult } from '../helpers/cli.js';
import { uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';

// Issue 27 point 2: doctor output is pasted into tickets, so no mode may print the Redis password,
// and AUTH is judged from the effective settings (URL, REDIS_PASSWORD), not the URL alone.
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-canary`;
let redis: OwnRedis;
let dir: string;
const prefix = uniquePrefix('doctor-secrets');

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-doctor-secrets-'));
  redis = await startRedisServer();
  const admin = new Redis(redis.url);
  await admin.config('SET', 'requirepass', PASSWORD);
  admin.disconnect();
}, 240_000);

afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const withPassword = () => redis.url.replace('redis://', `redis://default:${PASSWORD}@`);

async function doctorBoth(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ text: CliResult; json: CliResult; checks: CheckResult[] }> {
  return withSimulator({ fleet: 2 }, async ({ url, sim }) => {
    const base = {
      FLEETSCAN_PREFIX: prefix,
      MDE_API_URL: url,
      MDE_AUTHORITY_HOST: url,
      MDE_TENANT_ID: sim.credentials.tenantId,
      MDE_CLIENT_ID: sim.credentials.clientId,
      MDE_CLIENT_SECRET: sim.credentials.clientSecret,
      ...env,
    };
    const text = await runCli([...args, 'doctor'], { env: base });
    const json = await runCli([...args, 'doctor', '--json'], { env: base });
    const checks = (JSON.parse(json.stdout) as { checks: CheckResult[] }).checks;
    return { text, json, checks };
  });
}

function expectNoPassword(...results: CliResult[]): void {
  for (const result of results) {
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  }
}

describe('fleetscan doctor and the Redis password', { timeout: 120_000 }, () => {
  it('masks a password in REDIS_URL in text and --json, and says AUTH is in use', async () => {
    const { text, json, checks } = await doctorBoth({ REDIS_URL: withPassword() });
    expectNoPassword(text, json);
    expect(text.stdout).toMatch(/REDIS_URL → redis\.url = redis:\/\/default:\*\*\*@127\.0\.0\.1/);
    expect(checks.find((c) => c.id === 'redis.reachable')?.status).toBe('ok');
    expect(checks.find((c) => c.id === 'redis.transport')?.summary).toMatch(/AUTH in use/);
  });

  it('masks a password in the URL of a config file', async () => {
    const file = join(dir, 'fleetscan.yaml');
    writeFileSync(file, `redis:\n  url: ${withPassword()}\n`);
    const { text, json, checks } = await doctorBoth({}, ['--config', file]);
    expectNoPassword(text, json);
    expect(text.stdout).toMatch(/fleetscan\.yaml → redis\.url = "redis:\/\/default:\*\*\*@/);
    expect(checks.find((c) => c.id === 'redis.reachable')?.status).toBe('ok');
  });

  it('says AUTH is in use when the password comes from REDIS_PASSWORD', async () => {
    const { text, json, checks } = await doctorBoth({
      REDIS_URL: redis.url,
      REDIS_PASSWORD: PASSWORD,
    });
    expectNoPassword(text, json);
    expect(text.stdout).toMatch(/REDIS_PASSWORD → redis\.password = set \(hidden\)/);
    const transport = checks.find((c) => c.id === 'redis.transport');
    expect(transport?.summary).toMatch(/AUTH in use/);
    expect(transport?.summary).not.toMatch(/no AUTH/);
  });

  it('masks a wrong password in the URL when Redis refuses it', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const { text, json, checks } = await doctorBoth({
      REDIS_URL: redis.url.replace('redis://', `redis://default:${wrong}@`),
    });
    expectNoPassword(text, json);
    expect(checks.find((c) => c.id === 'redis.reachable')?.status).toBe('fail');
    expect(text.stdout).toMatch(/redis:\/\/default:\*\*\*@/);
  });
});
