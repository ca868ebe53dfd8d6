import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { configError } from '../../helpers/config-error.js';
import { parseDuration, parseRateLimits } from '../../../src/config/duration.js';

const CANARY = 'canary-7f3a9e1c-do-not-print';

function writeYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-config-'));
  const file = join(dir, 'fleetscan.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('gives the documented defaults with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.redis.prefix).toBe('fleetscan');
    expect(config.defender.cloud).toBe('commercial');
    expect(config.limits.windows).toEqual([
      { cap: 100, windowMs: 60_000 },
      { cap: 1500, windowMs: 3_600_000 },
    ]);
    expect(config.scan.pendingRetry).toBe(300_000);
    expect(config.scan.pendingMaxWait).toBe(86_400_000);
  });

  it('derives the guard from the shortest window unless one is given', () => {
    expect(loadConfig({ env: {} }).limits.guard).toBe(60);
    const compressed = { FLEETSCAN_RATE_LIMITS: '100/600ms,1500/36000ms' };
    expect(loadConfig({ env: compressed }).limits.guard).toBe(2);
    const slow = { FLEETSCAN_RATE_LIMITS: '10/30m', FLEETSCAN_RATE_RESERVE: '0' };
    expect(loadConfig({ env: slow }).limits.guard).toBe(1_800);
    expect(loadConfig({ env: { ...compressed, FLEETSCAN_RATE_GUARD: '7ms' } }).limits.guard).toBe(
      7,
    );
    expect(loadConfig({ env: { FLEETSCAN_RATE_GUARD: '0' } }).limits.guard).toBe(0);
    const bad = configError(() => loadConfig({ env: { FLEETSCAN_RATE_GUARD: 'soon' } }));
    expect(bad.message).toMatch(/limits\.guard/);
  });

  it('reads every documented environment variable', () => {
    const config = loadConfig({
      env: {
        REDIS_URL: 'rediss://:pw@redis.example:6380',
        FLEETSCAN_PREFIX: 'tenant-a',
        MDE_CLOUD: 'gcc-high',
        MDE_API_URL: 'https://eu.api.security.microsoft.com',
        MDE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
        MDE_TOKEN_SCOPE: 'https://api-gov.securitycenter.microsoft.us/.default',
        MDE_TENANT_ID: 'tenant',
        MDE_CLIENT_ID: 'client',
        MDE_CLIENT_SECRET: 'secret',
        MDE_CERTIFICATE_PATH: '/etc/fleetscan/cert.pem',
        MDE_CERTIFICATE_PASSWORD: 'pw',
        MDE_ACCESS_TOKEN: 'token',
        FLEETSCAN_RATE_LIMITS: '100/600ms,1500/36000ms',
        FLEETSCAN_PENDING_RETRY: '2s',
        FLEETSCAN_PENDING_MAX_WAIT: '1h',
        FLEETSCAN_BUDGET_SCOPE: 'shared',
        LOG_LEVEL: 'debug',
      },
    });
    expect(config.redis).toMatchObject({
      url: 'rediss://:pw@redis.example:6380',
      prefix: 'tenant-a',
    });
    expect(config.defender).toMatchObject({
      cloud: 'gcc-high',
      apiUrl: 'https://eu.api.security.microsoft.com',
      authorityHost: 'https://login.microsoftonline.us',
      tenantId: 'tenant',
      clientId: 'client',
      clientSecret: 'secret',
      certificatePath: '/etc/fleetscan/cert.pem',
      certificatePassword: 'pw',
      accessToken: 'token',
    });
    expect(config.limits.windows).toEqual([
      { cap: 100, windowMs: 600 },
      { cap: 1500, windowMs: 36_000 },
    ]);
    expect(config.scan.pendingRetry).toBe(2_000);
    expect(config.scan.pendingMaxWait).toBe(3_600_000);
    expect(config.log.level).toBe('debug');
    expect(config.limits.budgetScope).toBe('shared');
  });

  it('layers a file over the defaults and the environment over the file', () => {
    const file = writeYaml('worker:\n  concurrency: 3\nlog:\n  level: warn\n');
    const config = loadConfig({ file, env: { LOG_LEVEL: 'error' } });
    expect(config.worker.concurrency).toBe(3);
    expect(config.log.level).toBe('error');
  });

  it('takes the file from FLEETSCAN_CONFIG', () => {
    const file = writeYaml('worker:\n  concurrency: 5\n');
    expect(loadConfig({ env: { FLEETSCAN_CONFIG: file } }).worker.concurrency).toBe(5);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits.windows[0])).toBe(true);
  });

  it('names every bad key path, its source and why, in one error', () => {
    const file = writeYaml('worker:\n  concurrency: 0\nscan:\n  attempts: many\nnonsense: 1\n');
    const error = configError(() =>
      loadConfig({
        file,
        env: { MDE_CLOUD: 'mars', FLEETSCAN_RATE_LIMITS: '100 per minute', REDIS_URL: 'http://x' },
      }),
    );
    const byPath = new Map(error.issues.map((issue) => [issue.path, issue]));
    expect([...byPath.keys()].sort()).toEqual(
      [
        'defender.cloud',
        'limits.windows',
        'nonsense',
        'redis.url',
        'scan.attempts',
        'worker.concurrency',
      ].sort(),
    );
    expect(byPath.get('defender.cloud')?.source).toBe('MDE_CLOUD');
    expect(byPath.get('limits.windows')?.source).toBe('FLEETSCAN_RATE_LIMITS');
    expect(byPath.get('limits.windows')?.message).toMatch(/100\/1m,1500\/1h/);
    expect(byPath.get('worker.concurrency')?.source).toBe(file);
    expect(error.message).toContain('worker.concurrency');
    expect(error.message).toContain('MDE_CLOUD');
  });

  it('rejects an unreadable file and invalid YAML with the file name', () => {
    expect(
      configError(() => loadConfig({ file: '/nonexistent/fleetscan.yaml', env: {} })).message,
    ).toMatch(/\/nonexistent\/fleetscan\.yaml.*ENOENT/);
    const bad = writeYaml('worker: [unclosed\n');
    expect(configError(() => loadConfig({ file: bad, env: {} })).message).toContain(bad);
  });

  it('refuses a slot lease shorter than a token fetch plus a request', () => {
    const file = writeYaml('defender:\n  requestTimeout: 90s\n');
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.issues).toEqual([
      {
        path: 'limits.lease',
        source: expect.any(String) as string,
        message: expect.stringContaining('180000ms') as string,
      },
    ]);
  });

  it('refuses a dashboard token shorter than 32 characters, and half a TLS pair', () => {
    const error = configError(() =>
      loadConfig({
        env: { FLEETSCAN_DASHBOARD_TOKEN: 'a' },
        overrides: { 'api.tlsCert': '/etc/fleetscan/api.pem' },
      }),
    );
    expect(error.issues.map((i) => [i.path, i.message])).toEqual([
      [
        'dashboard.token',
        'Expected at least 32 characters (openssl rand -hex 32) (value not shown: it is a secret)',
      ],
      ['api.tlsKey', 'Expected both tlsCert and tlsKey, or neither'],
    ]);
    expect(JSON.stringify(error.issues)).not.toContain('"a"');
    const ok = loadConfig({ env: { FLEETSCAN_DASHBOARD_TOKEN: 'x'.repeat(32) } });
    expect(ok.dashboard.token).toHaveLength(32);
  });

  it('rejects whole-number variables that are not numbers', () => {
    const error = configError(() => loadConfig({ env: { FLEETSCAN_CONCURRENCY: 'eight' } }));
    expect(error.issues).toEqual([
      {
        path: 'worker.concurrency',
        source: 'FLEETSCAN_CONCURRENCY',
        message: 'Expected a whole number, got "eight"',
      },
    ]);
  });

  it('reports bad variables of every kind together, each with the value given', () => {
    const error = configError(() =>
      loadConfig({
        env: {
          FLEETSCAN_CONCURRENCY: 'x',
          FLEETSCAN_RATE_LIMITS: '100/1x',
          LOG_LEVEL: 'loud',
          REDIS_URL: 'redis://:hunter2@',
        },
      }),
    );
    const byPath = new Map(error.issues.map((issue) => [issue.path, issue.message]));
    expect([...byPath.keys()].sort()).toEqual(
      ['limits.windows', 'log.level', 'worker.concurrency']
        .concat(byPath.has('redis.url') ? ['redis.url'] : [])
        .sort(),
    );
    expect(byPath.get('limits.windows')).toMatch(/100\/1m,1500\/1h.*, got "100\/1x"$/);
    expect(byPath.get('log.level')).toMatch(/, got "loud"$/);
    expect(error.message).not.toContain('hunter2');
  });

  it('never echoes a secret value in an error', () => {
    const file = writeYaml(
      `defender:\n  clientSecret: 42\n  accessToken: ['${CANARY}']\ndashboard:\n  token: {a: '${CANARY}'}\n`,
    );
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'dashboard.token',
      'defender.accessToken',
      'defender.clientSecret',
    ]);
    expect(JSON.stringify(error.issues)).not.toContain(CANARY);
    expect(error.message).not.toContain(CANARY);
  });
});

describe('durations and rate limits', () => {
  it.each([
    ['600ms', 600],
    ['5s', 5_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['250', 250],
  ])('parses %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '5 minutes', '-5s', '1w'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('parses several windows and refuses a malformed one', () => {
    expect(parseRateLimits('100/1m, 1500/1h')).toEqual([
      { cap: 100, windowMs: 60_000 },
      { cap: 1500, windowMs: 3_600_000 },
    ]);
    expect(parseRateLimits('100/1m,0/1h')).toBeUndefined();
    expect(parseRateLimits('100')).toBeUndefined();
    expect(parseRateLimits('100/0s')).toBeUndefined();
  });
});
