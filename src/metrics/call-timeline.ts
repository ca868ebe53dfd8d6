import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from '../shared/redis.js';
import { campaignKeys } from '../campaigns/campaign-keys.js';
import type { RateWindow } from '../config/duration.js';

/**
 * Which campaign the Defender calls of the current async flow are made for. Context, not state:
 * it follows one device's turn (or one kill-switch run) through every await down to the client's
 * `onCall`, however many pages, retries and token refreshes lie between, which no argument could
 * without threading a campaign id through every client method.
 */
const callScope = new AsyncLocalStorage<string>();

/** Runs `work` with every API call it makes counted in `campaignId`'s call timeline. */
export function callsFor<T>(campaignId: string, work: () => Promise<T>): Promise<T> {
  return callScope.run(campaignId, work);
}

/** The campaign the current call is made for, if any. */
export function campaignOfCall(): string | undefined {
  return callScope.getStore();
}

/** Hash of a campaign's calls: `<family>:<bucketMs>:<bucket index>` → calls in that bucket. */
export function callTimelineKey(prefix: string, campaignId: string): string {
  return `${campaignKeys(prefix, campaignId).campaign}:calls`;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The timeline's bucket: the greatest common divisor of the configured windows (1 min with the
 * default 1 min and 1 h), so that each window's chart is an exact sum of whole buckets; never
 * under 100 ms, so a campaign never has more fields than calls and seldom nearly as many.
 */
export function timelineBucketMs(windows: readonly RateWindow[]): number {
  const divisor = windows.map((w) => Math.round(w.windowMs)).reduce(gcd, 0);
  return Math.max(100, divisor || 60_000);
}

export function timelineField(family: string, atMs: number, bucketMs: number): string {
  return `${family}:${String(bucketMs)}:${String(Math.floor(atMs / bucketMs))}`;
}

/** One bucket of a campaign's calls, as recorded (its own bucket size: configs may change). */
export interface TimelineBucket {
  family: string;
  startMs: number;
  bucketMs: number;
  calls: number;
}

/** Every bucket of a campaign's call timeline, oldest first. */
export async function readCallTimeline(
  redis: Redis,
  prefix: string,
  campaignId: string,
): Promise<TimelineBucket[]> {
  const fields = await redis.hgetall(callTimelineKey(prefix, campaignId));
  const buckets: TimelineBucket[] = [];
  for (const [field, value] of Object.entries(fields)) {
    const [family = '', size = '', index = ''] = field.split(':');
    const bucketMs = Number(size);
    const startMs = Number(index) * bucketMs;
    if (!(bucketMs > 0) || !Number.isFinite(startMs)) continue;
    buckets.push({ family, startMs, bucketMs, calls: Number(value) });
  }
  return buckets.sort((a, b) => a.startMs - b.startMs || a.family.localeCompare(b.family));
}
