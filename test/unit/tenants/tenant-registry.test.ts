import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { limiterFromConfig } from '../../../src/runtime/limiter-from-config.js';
import type { CallStats } from '../../../src/metrics/call-stats.js';
import { createTenantRegistry, UnknownTenantError } from '../../../src/tenants/tenant-registry.js';

// Never connected: building limiters and clients talks to nobody.
const redis = new Redis({ lazyConnect: true });
afterAll(() => {
  redis.disconnect();
});
const callStats = { recordApiCall() {}, recordTokenRefresh() {} } as unknown as CallStats;
const deps = { redis, callStats, log: pino({ level: 'silent' }), limiterFromConfig };

function configWith(tenants: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-registry-'));
  const file = join(dir, 'fleetscan.yaml');
  writeFileSync(file, tenants);
  return loadConfig({ file, env: { TOKEN: 'x', ...env } });
}

const entry = (name: string, tenantId: string, clientId = 'app', cloud = 'commercial') =>
  `  - name: ${name}\n    cloud: ${cloud}\n    tenantId: ${tenantId}\n    clientId: ${clientId}\n    accessTokenEnv: TOKEN\n`;

describe('createTenantRegistry', () => {
  it('is the single tenant default without a tenants list', () => {
    const registry = createTenantRegistry(loadConfig({ env: {} }), deps);
    expect(registry.names).toEqual(['default']);
    expect(registry.get('default').budgetId).toBe('commercial:static-token:static-token');
  });

  it('lists configured tenants, with default only when its variables are set', () => {
    const yaml = `tenants:\n${entry('contoso', 'T1')}${entry('fabrikam', 'T2')}`;
    expect(createTenantRegistry(configWith(yaml), deps).names).toEqual(['contoso', 'fabrikam']);
    const withDefault = configWith(yaml, { MDE_TENANT_ID: 't0', MDE_CLIENT_ID: 'c0' });
    expect(createTenantRegistry(withDefault, deps).names).toEqual([
      'default',
      'contoso',
      'fabrikam',
    ]);
  });

  it('keys budgets by cloud, tenant and app, so one identity shares one limiter', () => {
    const yaml =
      `tenants:\n${entry('a', 'Tenant-1')}${entry('a-again', 'tenant-1')}` +
      `${entry('b', 'tenant-1', 'other-app')}${entry('c', 'tenant-1', 'app', 'gcc-high')}`;
    const registry = createTenantRegistry(configWith(yaml), deps);
    const [a, again, b, c] = registry.list();
    expect(a?.budgetId).toBe('commercial:tenant-1:app');
    expect(again?.limiter).toBe(a?.limiter);
    expect(b?.budgetId).toBe('commercial:tenant-1:other-app');
    expect(b?.limiter).not.toBe(a?.limiter);
    expect(c?.budgetId).toBe('gcc-high:tenant-1:app');
  });

  it('names the configured tenants when asked for an unknown one', () => {
    const registry = createTenantRegistry(configWith(`tenants:\n${entry('contoso', 'T')}`), deps);
    expect(() => registry.get('fabrikam')).toThrow(UnknownTenantError);
    expect(() => registry.get('fabrikam')).toThrow('configured tenants: contoso');
  });
});
