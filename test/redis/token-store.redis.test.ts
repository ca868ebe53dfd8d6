import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, USE_RESOLUTION_MS } from '../../src/api/tokens/token-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('tokens');
let redis: Redis;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
});
afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const T0 = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;

describe('token store: expiry and last use', () => {
  it('refuses a token from its expiry on, and says why', async () => {
    const store = createTokenStore(redis, `${prefix}:a`);
    const { token, secret } = await store.create({
      name: 'short-lived',
      scopes: ['read'],
      tenants: null,
      createdBy: 'test',
      now: T0,
      expiresAt: T0 + DAY,
    });
    expect(token.expiresAt).toBe(T0 + DAY);
    expect((await store.verify(secret, T0 + DAY - 1)).ok).toBe(true);
    expect(await store.verify(secret, T0 + DAY)).toEqual({ ok: false, reason: 'expired' });
    // A revoked token says revoked, whatever its expiry.
    await store.revoke(token.id, T0 + 2 * DAY);
    expect(await store.verify(secret, T0 + 3 * DAY)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('records the last use at most once per resolution, and a revoke after a use stands', async () => {
    const store = createTokenStore(redis, `${prefix}:b`);
    const { token, secret } = await store.create({
      name: 'busy',
      scopes: ['write'],
      tenants: null,
      createdBy: 'test',
      now: T0,
    });
    expect(token).toMatchObject({ lastUsedAt: null, expiresAt: null });
    await store.verify(secret, T0 + 1_000);
    await store.verify(secret, T0 + 1_000 + USE_RESOLUTION_MS - 1);
    expect((await store.list())[0]?.lastUsedAt).toBe(T0 + 1_000);
    await store.verify(secret, T0 + 1_000 + USE_RESOLUTION_MS);
    expect((await store.list())[0]?.lastUsedAt).toBe(T0 + 1_000 + USE_RESOLUTION_MS);
    const revoked = await store.revoke('busy', T0 + 5 * 60_000);
    expect(revoked?.revokedAt).toBe(T0 + 5 * 60_000);
    expect((await store.list())[0]).toMatchObject({
      revokedAt: T0 + 5 * 60_000,
      lastUsedAt: T0 + 1_000 + USE_RESOLUTION_MS,
    });
    // The secret never leaves the store, nor its hash.
    expect(JSON.stringify(await store.list())).not.toContain(secret.slice(-43));
    expect(Object.keys((await store.list())[0] ?? {})).not.toContain('hash');
  });

  it('reads tokens stored before expiry and last use existed as never expiring, never used', async () => {
    const store = createTokenStore(redis, `${prefix}:c`);
    const { token, secret } = await store.create({
      name: 'old',
      scopes: ['read'],
      tenants: null,
      createdBy: 'test',
      now: T0,
    });
    const key = `${prefix}:c:api:tokens`;
    const raw = JSON.parse((await redis.hget(key, token.id)) ?? '{}') as Record<string, unknown>;
    delete raw['expiresAt'];
    await redis.hset(key, token.id, JSON.stringify(raw));
    expect((await store.list())[0]).toMatchObject({ expiresAt: null, lastUsedAt: null });
    expect((await store.verify(secret, T0 + 10_000 * DAY)).ok).toBe(true);
  });
});
