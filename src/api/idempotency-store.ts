import { createHash } from 'node:crypto';
import type { Redis } from '../shared/redis.js';

/** The first answer to a key, replayed as is for a repeat. */
export interface StoredAnswer {
  status: number;
  contentType: string;
  body: string;
}

interface IdempotencyRecord {
  fingerprint: string;
  state: 'pending' | 'done';
  answer?: StoredAnswer;
}

export type IdempotencyVerdict =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'conflict'; reason: 'different-request' | 'in-progress' };

/** Pure: what a request with a key finds, given what is stored under it. */
export function judgeIdempotency(
  stored: IdempotencyRecord | null,
  fingerprint: string,
): IdempotencyVerdict {
  if (stored === null) return { kind: 'new' };
  if (stored.fingerprint !== fingerprint) return { kind: 'conflict', reason: 'different-request' };
  if (stored.state === 'pending' || !stored.answer)
    return { kind: 'conflict', reason: 'in-progress' };
  return { kind: 'replay', answer: stored.answer };
}

/**
 * SHA-256 over method, path with query, and the body's own SHA-256 (`digestBody`, hashed in
 * slices by the body parser): "the same request".
 */
export function requestFingerprint(method: string, url: string, body: string): string {
  return createHash('sha256').update(`${method}\n${url}\n${body}`).digest('hex');
}

export interface IdempotencyStore {
  /** Claims the key for this request, or says why not (replay or conflict). */
  begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyVerdict>;
  /** Keeps the answer for the key's lifetime. */
  complete(scope: string, key: string, fingerprint: string, answer: StoredAnswer): Promise<void>;
  /** Frees the key (the request failed on our side, so a retry may run it). */
  abandon(scope: string, key: string): Promise<void>;
}

/**
 * Idempotency keys in Redis, per token (`${prefix}:api:idem:${tokenId}:${sha256(key)}`), as
 * payment APIs keep them: the first request with a key claims it (SET NX), its answer is kept for
 * `ttlMs` and replayed for the same request; another request under the same key gets 409. A claim
 * whose request never answered (the process died) expires after `pendingMs`, so it cannot block
 * the key for a day.
 */
export function createIdempotencyStore(
  redis: Redis,
  prefix: string,
  options: { ttlMs: number; pendingMs?: number },
): IdempotencyStore {
  const keyOf = (scope: string, key: string) =>
    `${prefix}:api:idem:${scope}:${createHash('sha256').update(key).digest('hex')}`;
  // Long enough for the largest device list to be queued (100,000 ids take about a minute).
  const pendingMs = options.pendingMs ?? 15 * 60_000;
  return {
    async begin(scope, key, fingerprint) {
      const redisKey = keyOf(scope, key);
      const claim: IdempotencyRecord = { fingerprint, state: 'pending' };
      const claimed = await redis.set(redisKey, JSON.stringify(claim), 'PX', pendingMs, 'NX');
      if (claimed === 'OK') return { kind: 'new' };
      const json = await redis.get(redisKey);
      // Expired between the two calls: claim it again (one more round at most in practice).
      if (json === null) return this.begin(scope, key, fingerprint);
      return judgeIdempotency(JSON.parse(json) as IdempotencyRecord, fingerprint);
    },
    async complete(scope, key, fingerprint, answer) {
      const record: IdempotencyRecord = { fingerprint, state: 'done', answer };
      await redis.set(keyOf(scope, key), JSON.stringify(record), 'PX', options.ttlMs);
    },
    async abandon(scope, key) {
      await redis.del(keyOf(scope, key));
    },
  };
}
