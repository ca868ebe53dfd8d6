import { describe, expect, it } from 'vitest';
import { SignInRequiredError } from '../../../src/auth/delegated-errors.js';
import type { TokenClaims } from '../../../src/auth/token-claims.js';
import { TokenError } from '../../../src/auth/token-error.js';
import { ConfigError } from '../../../src/config/load.js';
import type { CheckResult } from '../../../src/ops/doctor/check-result.js';
import {
  describeEnvironment,
  describeFile,
  maskValue,
} from '../../../src/ops/doctor/config-checks.js';
import {
  judgeClockSkew,
  judgeEviction,
  judgeMemory,
  judgePersistence,
  judgeTransport,
  judgeVersion,
  judgeWorkers,
  parseInfo,
} from '../../../src/ops/doctor/redis-judgements.js';
import { doctorExitCode, renderDoctor } from '../../../src/ops/doctor/render-doctor.js';
import { assessMemory } from '../../../src/retention/memory-headroom.js';
import { judgeBreaker, judgeThrottling } from '../../../src/ops/doctor/throttling-checks.js';
import {
  findTlsProblem,
  judgeExpiry,
  judgePermissions,
  judgeTokenFailure,
} from '../../../src/ops/doctor/token-judgements.js';

describe('Redis judgements', () => {
  it.each([
    [0.5, 'ok', 1_200],
    [0.75, 'warn', 200],
    [0.9, 'fail', 0],
  ] as const)(
    'judges Redis memory %s of maxmemory as %s, with room in devices',
    (used, status, room) => {
      const MB = 1024 * 1024;
      const headroom = assessMemory(
        { usedBytes: used * 1_000 * MB, limitBytes: 1_000 * MB, limitSource: 'maxmemory' },
        { bytesPerDevice: MB / 4, warnAt: 0.7, refuseAt: 0.8 },
      );
      const result = judgeMemory(headroom);
      expect(result).toMatchObject({ id: 'redis.memory', status });
      expect(result.summary).toContain(`${String(used * 100)} % used`);
      expect(result.summary).toContain(
        `room for about ${room.toLocaleString('en-US')} more devices`,
      );
      if (status === 'ok') expect(result.fix).toBeUndefined();
      else expect(result.fix).toMatch(/fleetscan prune.*maxmemory/);
    },
  );

  it.each([
    ['noeviction', 'ok'],
    ['allkeys-lru', 'fail'],
    ['volatile-lru', 'fail'],
    [undefined, 'fail'],
  ] as const)('judges maxmemory-policy %s as %s', (policy, status) => {
    expect(judgeEviction(policy).status).toBe(status);
  });

  it.each([
    ['7.2.4', 'ok'],
    ['6.2.0', 'ok'],
    ['6.0.16', 'fail'],
    ['5.0.7', 'fail'],
    [undefined, 'fail'],
  ] as const)('judges Redis version %s as %s', (version, status) => {
    expect(judgeVersion(version).status).toBe(status);
  });

  it.each([
    ['aof_enabled:1', '', 'ok', /AOF on/],
    ['aof_enabled:0', '', 'warn', /no RDB snapshots/],
    ['aof_enabled:0', '3600 1', 'warn', /RDB snapshots only: save 3600 1/],
    ['aof_enabled:0', undefined, 'warn', /AOF off/],
  ] as const)('judges persistence %s with save %s as %s', (info, save, status, summary) => {
    const result = judgePersistence(parseInfo(`# Persistence\r\n${info}\r\n`), save);
    expect(result.status).toBe(status);
    expect(result.summary).toMatch(summary);
    if (status === 'warn') expect(result.fix).toMatch(/appendonly yes/);
  });

  it.each([
    ['redis://127.0.0.1:6379', undefined, 'ok', /TLS off, no AUTH \(loopback only\)/],
    ['redis://redis.internal:6379', undefined, 'warn', /on a network address/],
    ['rediss://svc:pw@redis.internal:6380', 'svc', 'ok', /TLS on, AUTH in use as ACL user svc/],
    ['redis://:pw@redis.internal:6379', 'default', 'warn', /TLS off, AUTH in use/],
    ['redis+cluster://127.0.0.1:7000,127.0.0.1:7001', undefined, 'ok', /loopback only/],
    ['redis+cluster://127.0.0.1:7000,10.0.0.6:7001', undefined, 'warn', /network address/],
    ['rediss+cluster://svc:pw@10.0.0.5:7000', 'svc', 'ok', /TLS on, AUTH in use/],
  ] as const)('judges transport of %s as %s', (url, user, status, summary) => {
    const result = judgeTransport(url, user);
    expect(result.status).toBe(status);
    expect(result.summary).toMatch(summary);
  });

  it('judges a `redis.cluster` list by its nodes, not by the default URL', () => {
    const result = judgeTransport('redis://127.0.0.1:6379', undefined, ['10.0.0.5:6379']);
    expect(result.status).toBe('warn');
  });

  it.each([
    [0, 'ok'],
    [-1_900, 'ok'],
    [5_000, 'warn'],
    [-120_000, 'fail'],
  ] as const)('judges a clock skew of %i ms as %s', (skew, status) => {
    expect(judgeClockSkew(skew).status).toBe(status);
  });

  it('warns when no worker listens and is content with one', () => {
    expect(judgeWorkers(0)).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/fleetscan worker/) as string,
    });
    expect(judgeWorkers(2).status).toBe('ok');
  });
});

const claims = (over: Partial<TokenClaims>): TokenClaims => ({
  kind: 'app',
  roles: [],
  scopes: [],
  directoryRoles: [],
  user: undefined,
  audience: 'https://api.securitycenter.microsoft.com',
  expiresAt: undefined,
  ...over,
});

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.status]));

describe('permission judgements', () => {
  it.each([
    [['Machine.Scan', 'Machine.Read.All'], 'ok', 'ok'],
    [['Machine.Scan', 'Machine.ReadWrite.All'], 'ok', 'ok'],
    [['Machine.Scan'], 'ok', 'warn'],
    [['Machine.Read.All'], 'fail', 'ok'],
    [[], 'fail', 'warn'],
  ] as const)('judges app roles %j: scan %s, read %s', (roles, scan, read) => {
    const results = byId(judgePermissions(claims({ roles: [...roles] }), { verify: false }));
    expect(results['tenant.permission.scan']).toBe(scan);
    expect(results['tenant.permission.read']).toBe(read);
    expect(results['tenant.permission.hunting']).toBe('ok');
  });

  it('reads scp, not roles, for a delegated token, and names the directory roles', () => {
    const results = judgePermissions(
      claims({
        kind: 'delegated',
        roles: ['Machine.Scan'],
        scopes: ['Machine.Read.All'],
        user: 'ana@contoso.example',
        directoryRoles: ['5f2222b1-57c3-48ba-8ad5-d4759f1fde6f'],
      }),
      { verify: false },
    );
    expect(byId(results)['tenant.permission.scan']).toBe('fail');
    expect(results.find((r) => r.id === 'tenant.permission.scan')?.fix).toMatch(
      /delegated permission Machine\.Scan .*grant consent; the user also needs .*Active remediation actions/,
    );
    expect(results.find((r) => r.id === 'tenant.directory-roles')?.summary).toMatch(
      /signed in as ana@contoso\.example; directory roles: Security Operator/,
    );
  });

  it('asks for ThreatHunting.Read.All only when verify is on', () => {
    expect(
      byId(judgePermissions(claims({ roles: ['Machine.Scan'] }), { verify: true }))[
        'tenant.permission.hunting'
      ],
    ).toBe('warn');
    expect(
      byId(judgePermissions(claims({ roles: ['ThreatHunting.Read.All'] }), { verify: true }))[
        'tenant.permission.hunting'
      ],
    ).toBe('ok');
  });

  it('judges an expired token as a warning and a live one by its minutes left', () => {
    expect(judgeExpiry(claims({ expiresAt: 1_000 }), 'static', 2_000).status).toBe('warn');
    expect(judgeExpiry(claims({ expiresAt: 3_600_000 }), 'secret', 0).summary).toMatch(/in 60 min/);
  });
});

describe('token failure judgements', () => {
  it.each([
    [
      new TokenError(
        'invalid_client',
        'Entra token request failed: invalid_client (HTTP 401): AADSTS7000215: Invalid client secret provided.',
      ),
      /AADSTS7000215/,
      /MDE_CLIENT_SECRET/,
    ],
    [
      new SignInRequiredError('default', 'refresh-token-rejected'),
      /refresh token refused/,
      /^Run fleetscan login\.$/,
    ],
    [new TokenError('authority_uri_insecure', 'x'), /https login hosts only/, /MDE_AUTHORITY_HOST/],
    [
      new TokenError('certificate_key_mismatch', 'The private key does not belong'),
      /private key/,
      /MDE_CERTIFICATE_PATH/,
    ],
    [
      new ConfigError([
        { path: 'defender.tenantId', source: 'MDE_TENANT_ID', message: 'Required' },
      ]),
      /no credentials: defender\.tenantId/,
      /fleetscan login/,
    ],
    [
      Object.assign(new Error('request failed'), { cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } }),
      /not trusted \(SELF_SIGNED_CERT_IN_CHAIN\)/,
      /NODE_EXTRA_CA_CERTS/,
    ],
  ])('explains %s with a fix', (error, summary, fix) => {
    const result = judgeTokenFailure(error, 'default');
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(summary);
    expect(result.fix).toMatch(fix);
  });

  it('finds a certificate problem anywhere in the cause chain, and none where there is none', () => {
    const deep = new Error('outer', {
      cause: new Error('middle', { cause: new Error('self-signed certificate') }),
    });
    expect(findTlsProblem(deep)).toBe('self-signed certificate');
    expect(findTlsProblem(new Error('ECONNREFUSED'))).toBeUndefined();
  });
});

describe('configuration report', () => {
  it('hides secrets and shows other values', () => {
    expect(maskValue('defender.clientSecret', 'hunter2')).toBe('set (hidden)');
    expect(maskValue('defender.accessToken', 'eyJ')).toBe('set (hidden)');
    expect(maskValue('redis.prefix', 'fleetscan')).toBe('fleetscan');
    expect(
      describeEnvironment({
        MDE_CLIENT_SECRET: 's3cr3t-canary',
        REDIS_URL: 'redis://x:6379',
        UNRELATED: 'x',
      }),
    ).toEqual([
      'REDIS_URL → redis.url = redis://x:6379',
      'MDE_CLIENT_SECRET → defender.clientSecret = set (hidden)',
    ]);
  });
});

describe('configuration file report', () => {
  it('lists every key the file sets, secrets hidden', () => {
    const text =
      'limits:\n  guard: 5ms\ndefender:\n  clientSecret: file-secret-canary\n  pageSize: 500\n';
    expect(describeFile('ops.yaml', text)).toEqual([
      'ops.yaml → limits.guard = "5ms"',
      'ops.yaml → defender.clientSecret = set (hidden)',
      'ops.yaml → defender.pageSize = 500',
    ]);
  });
});

describe('throttling report', () => {
  it('shows use per window and warns about a hold after a 429', () => {
    const results = judgeThrottling(
      'default',
      [
        { family: 'scan', windows: [{ cap: 100, windowMs: 60_000, used: 42 }], pausedUntil: null },
        {
          family: 'machines',
          windows: [{ cap: 100, windowMs: 60_000, used: 3 }],
          pausedUntil: 31_000,
        },
      ],
      1_000,
    );
    expect(results.map((r) => [r.status, r.summary])).toEqual([
      ['ok', 'scan: 42/100 per 1m'],
      ['warn', 'machines: held for 30s after a 429 (3/100 per 1m)'],
    ]);
    expect(results.every((r) => r.tenant === 'default')).toBe(true);
  });
});

describe('breaker check', () => {
  it('fails a blocked tenant with the fix the block names, and passes an open one', () => {
    const blocked = judgeBreaker('contoso', {
      reason: 'permission_missing',
      message:
        'Defender API answered 403 Forbidden: lacks Machine.Scan. Grant the app the permission.',
      since: '2026-12-01T10:00:00.000Z',
      nextProbeAt: '2026-12-01T10:05:00.000Z',
      failedProbes: 4,
    });
    expect(blocked).toEqual({
      group: 'throttling',
      id: 'throttling.breaker',
      status: 'fail',
      summary:
        'dispatch blocked since 2026-12-01T10:00:00.000Z (permission_missing; 4 failed probes, next probe 2026-12-01T10:05:00.000Z)',
      fix: 'Defender API answered 403 Forbidden: lacks Machine.Scan. Grant the app the permission.',
      tenant: 'contoso',
    });
    expect(judgeBreaker('contoso', null)).toMatchObject({ status: 'ok', tenant: 'contoso' });
  });
});

describe('the doctor report', () => {
  const results: CheckResult[] = [
    { group: 'config', id: 'config.valid', status: 'ok', summary: 'configuration valid' },
    {
      group: 'redis',
      id: 'redis.eviction',
      status: 'fail',
      summary: 'maxmemory-policy is allkeys-lru',
      fix: 'Set noeviction.',
    },
    {
      group: 'redis',
      id: 'redis.workers',
      status: 'warn',
      summary: 'no workers',
      fix: 'Start one.',
    },
    {
      group: 'tenant',
      id: 'tenant.token',
      status: 'ok',
      summary: 'token obtained',
      tenant: 'default',
    },
  ];

  it('prints one marked line per check, a fix under each ⚠ and ✖, headings and a tally', () => {
    expect(renderDoctor(results)).toBe(
      [
        'Configuration',
        '  ✔ configuration valid',
        '',
        'Redis',
        '  ✖ maxmemory-policy is allkeys-lru',
        '      fix: Set noeviction.',
        '  ⚠ no workers',
        '      fix: Start one.',
        '',
        'Tenant default',
        '  ✔ token obtained',
        '',
        '2 ok, 1 warning, 1 failure',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 on any failure and 0 on warnings alone', () => {
    expect(doctorExitCode(results)).toBe(1);
    expect(doctorExitCode(results.filter((r) => r.status !== 'fail'))).toBe(0);
  });
});
