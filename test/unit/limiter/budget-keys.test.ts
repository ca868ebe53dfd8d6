import { describe, expect, it } from 'vitest';
import { budgetIdFor } from '../../../src/limiter/budget-id.js';
import { normaliseWindows } from '../../../src/config/duration.js';
import { budgetKeys } from '../../../src/limiter/budget-keys.js';

describe('budgetIdFor', () => {
  it('names cloud, tenant and app', () => {
    const defender = { cloud: 'gcc-high', tenantId: 'tenant-a', clientId: 'app-1' } as const;
    expect(budgetIdFor({ defender })).toBe('gcc-high:tenant-a:app-1');
  });

  it('gives two spellings of one tenant and app one budget', () => {
    const tenant = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';
    const upper = { cloud: 'commercial', tenantId: tenant, clientId: 'APP-1' } as const;
    const lower = {
      cloud: 'commercial',
      tenantId: tenant.toLowerCase(),
      clientId: 'app-1',
    } as const;
    expect(budgetIdFor({ defender: upper })).toBe(budgetIdFor({ defender: lower }));
  });

  it('puts every static-token run of one cloud in one budget', () => {
    const defender = { cloud: 'commercial', tenantId: undefined, clientId: undefined } as const;
    expect(budgetIdFor({ defender })).toBe('commercial:static-token:static-token');
  });
});

describe('budgetKeys', () => {
  it('gives every key of one budget the same Redis Cluster hash tag', () => {
    const keys = budgetKeys('fs', 'commercial:t:a', 'scan', [
      { cap: 100, windowMs: 60_000 },
      { cap: 1500, windowMs: 3_600_000 },
    ]);
    expect(keys).toEqual({
      tag: '{commercial:t:a:scan}',
      pause: 'fs:budget:{commercial:t:a:scan}:pause',
      inflight: 'fs:budget:{commercial:t:a:scan}:inflight',
      caps: 'fs:budget:{commercial:t:a:scan}:caps',
      good: 'fs:budget:{commercial:t:a:scan}:good',
      adaptive: 'fs:budget:{commercial:t:a:scan}:adaptive',
      windows: [
        'fs:budget:{commercial:t:a:scan}:w60000',
        'fs:budget:{commercial:t:a:scan}:w3600000',
      ],
    });
  });
});

describe('normaliseWindows', () => {
  it('orders windows shortest first', () => {
    expect(
      normaliseWindows([
        { cap: 1500, windowMs: 36_000 },
        { cap: 100, windowMs: 600 },
      ]),
    ).toEqual([
      { cap: 100, windowMs: 600 },
      { cap: 1500, windowMs: 36_000 },
    ]);
  });

  it('keeps the stricter cap of two windows of one length', () => {
    expect(
      normaliseWindows([
        { cap: 100, windowMs: 600 },
        { cap: 40, windowMs: 600 },
      ]),
    ).toEqual([{ cap: 40, windowMs: 600 }]);
  });

  it.each([
    [[], /at least one window/],
    [[{ cap: 0, windowMs: 600 }], /windows\[\]\.cap/],
    [[{ cap: 1.5, windowMs: 600 }], /windows\[\]\.cap/],
    [[{ cap: 10, windowMs: 0 }], /windows\[\]\.windowMs/],
  ])('refuses %j naming the field', (windows, message) => {
    expect(() => normaliseWindows(windows)).toThrow(message);
  });
});
