import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from '../../shared/redis.js';

export const TOKEN_SCOPES = ['read', 'write'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A token as stored and listed: never the secret, only its SHA-256. */
export interface ApiToken {
  id: string;
  name: string;
  /** `write` implies `read`. */
  scopes: TokenScope[];
  /** Tenants the token may see and act on; null for every tenant. */
  tenants: string[] | null;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  /** After this instant (ms) the token is refused; null for never. */
  expiresAt: number | null;
  /** The last request it authenticated, to the minute (see `USE_RESOLUTION_MS`); null for never. */
  lastUsedAt: number | null;
}

interface StoredToken extends ApiToken {
  /** SHA-256 (hex) of the secret part. */
  hash: string;
}

export interface CreatedToken {
  token: ApiToken;
  /** `fst_<id>_<secret>`: shown once, stored nowhere. */
  secret: string;
}

export type VerifyResult =
  | { ok: true; token: ApiToken }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/** Token names: what the audit log shows for the token's requests (`token:<name>`). */
export const TOKEN_NAME = /^[\w.@-]{1,64}$/;

/**
 * How stale `lastUsedAt` may get: a busy token is written back at most once a minute, not on
 * every request.
 */
export const USE_RESOLUTION_MS = 60_000;

/** `fst_` + 10 hex id + `_` + 43 base64url characters (32 random bytes). */
const TOKEN_PATTERN = /^fst_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Whether a token with `scopes` may do what `needed` requires (`write` includes `read`). */
export function hasScope(scopes: readonly TokenScope[], needed: TokenScope): boolean {
  return scopes.includes(needed) || (needed === 'read' && scopes.includes('write'));
}

/** Whether a token may act on `tenant`. */
export function allowsTenant(token: Pick<ApiToken, 'tenants'>, tenant: string): boolean {
  return token.tenants === null || token.tenants.includes(tenant);
}

export interface TokenStore {
  create(input: {
    name: string;
    scopes: TokenScope[];
    tenants: string[] | null;
    createdBy: string;
    now: number;
    /** When it stops working; absent or null for never. */
    expiresAt?: number | null;
  }): Promise<CreatedToken>;
  list(): Promise<ApiToken[]>;
  /** Revokes by id or by name; null when there is no such token. */
  revoke(idOrName: string, now: number): Promise<ApiToken | null>;
  /** Checks a presented secret; a valid one has its `lastUsedAt` moved to `now`. */
  verify(secret: string, now?: number): Promise<VerifyResult>;
}

/**
 * API tokens in one Redis hash (`${prefix}:api:tokens`, id → JSON). Secrets are 256 random bits,
 * so a plain SHA-256 is enough to make a leaked hash useless (no password stretching needed),
 * and checking one costs a hash lookup, not tens of milliseconds of scrypt per request.
 * Revoked tokens stay listed (with `revokedAt`), so the audit log's names keep their meaning.
 */
export function createTokenStore(redis: Redis, prefix: string): TokenStore {
  const key = `${prefix}:api:tokens`;
  // Last use apart from the records (id → ms): the request path writes only this field, so it
  // can never race a revoke or undo one.
  const usedKey = `${prefix}:api:tokens:used`;
  // Tokens stored before expiry existed have none: they never expire.
  const parseStored = (json: string, lastUsed: string | null | undefined): StoredToken => {
    const stored = JSON.parse(json) as Omit<StoredToken, 'expiresAt' | 'lastUsedAt'> & {
      expiresAt?: number | null;
    };
    return {
      ...stored,
      expiresAt: stored.expiresAt ?? null,
      lastUsedAt: lastUsed ? Number(lastUsed) : null,
    };
  };
  const read = async (id: string): Promise<StoredToken | null> => {
    const [json, used] = await Promise.all([redis.hget(key, id), redis.hget(usedKey, id)]);
    return json === null ? null : parseStored(json, used);
  };
  const publicPart = ({ hash: _hash, ...token }: StoredToken): ApiToken => token;
  // Last use lives in `usedKey` only.
  const recordOf = ({ lastUsedAt: _used, ...record }: StoredToken) => JSON.stringify(record);

  return {
    async create(input) {
      const names = (await this.list()).filter((t) => t.revokedAt === null).map((t) => t.name);
      if (names.includes(input.name)) {
        throw new Error(
          `A token named "${input.name}" exists already; revoke it or pick another name`,
        );
      }
      const id = randomBytes(5).toString('hex');
      const secretPart = randomBytes(32).toString('base64url');
      const stored: StoredToken = {
        id,
        name: input.name,
        scopes: [...new Set(input.scopes)],
        tenants: input.tenants,
        createdAt: input.now,
        createdBy: input.createdBy,
        revokedAt: null,
        expiresAt: input.expiresAt ?? null,
        lastUsedAt: null,
        hash: sha256(secretPart),
      };
      await redis.hset(key, id, recordOf(stored));
      return { token: publicPart(stored), secret: `fst_${id}_${secretPart}` };
    },
    async list() {
      const [records, used] = await Promise.all([redis.hgetall(key), redis.hgetall(usedKey)]);
      const all = Object.entries(records).map(([id, json]) => parseStored(json, used[id]));
      return all.sort((a, b) => a.createdAt - b.createdAt).map(publicPart);
    },
    async revoke(idOrName, now) {
      const match = (await this.list()).find(
        (t) => t.id === idOrName || (t.name === idOrName && t.revokedAt === null),
      );
      const stored = match ? await read(match.id) : null;
      if (!stored) return null;
      if (stored.revokedAt === null) {
        stored.revokedAt = now;
        await redis.hset(key, stored.id, recordOf(stored));
      }
      return publicPart(stored);
    },
    async verify(secret, now = Date.now()) {
      const parts = TOKEN_PATTERN.exec(secret);
      if (!parts) return { ok: false, reason: 'malformed' };
      const stored = await read(parts[1] ?? '');
      if (!stored) return { ok: false, reason: 'unknown' };
      const same = timingSafeEqual(
        Buffer.from(sha256(parts[2] ?? ''), 'hex'),
        Buffer.from(stored.hash, 'hex'),
      );
      if (!same) return { ok: false, reason: 'unknown' };
      if (stored.revokedAt !== null) return { ok: false, reason: 'revoked' };
      if (stored.expiresAt !== null && now >= stored.expiresAt)
        return { ok: false, reason: 'expired' };
      if (stored.lastUsedAt === null || now - stored.lastUsedAt >= USE_RESOLUTION_MS) {
        stored.lastUsedAt = now;
        await redis.hset(usedKey, stored.id, String(now));
      }
      return { ok: true, token: publicPart(stored) };
    },
  };
}
