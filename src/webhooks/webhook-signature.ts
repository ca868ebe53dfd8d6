import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of every delivery (lowercase, as Node hands them to a receiver). */
export const WEBHOOK_HEADERS = {
  id: 'fleetscan-webhook-id',
  timestamp: 'fleetscan-webhook-timestamp',
  signature: 'fleetscan-webhook-signature',
  event: 'fleetscan-webhook-event',
} as const;

/**
 * `v1=` + hex HMAC-SHA256 of `${timestamp}.${body}` under the subscription's secret. The
 * timestamp (Unix seconds) is signed with the body, so a captured delivery cannot be replayed
 * later with a fresh timestamp.
 */
export function signWebhook(secret: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${String(timestampSec)}.${body}`)
    .digest('hex');
  return `v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

/**
 * What a receiver does with a delivery: recompute the signature over the raw body and refuse it
 * when it differs or when the timestamp is further than `toleranceSec` from `nowSec`.
 */
export function verifyWebhook(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSec: number;
  toleranceSec?: number;
}): SignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'missing' };
  }
  const sentAt = Number(timestamp);
  if (Math.abs(input.nowSec - sentAt) > (input.toleranceSec ?? 300)) {
    return { ok: false, reason: 'stale' };
  }
  const expected = Buffer.from(signWebhook(input.secret, sentAt, input.body));
  const actual = Buffer.from(signature);
  const same = expected.length === actual.length && timingSafeEqual(expected, actual);
  return same ? { ok: true } : { ok: false, reason: 'mismatch' };
}
