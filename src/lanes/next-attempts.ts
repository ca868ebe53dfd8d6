import type { Redis } from '../shared/redis.js';

/** When a campaign's waiting devices (busy, or backing off after a 5xx) are next tried. */
export interface NextAttempt {
  /** The earliest due time (epoch ms): the next retry. */
  first: number;
  /** The latest due time (epoch ms): no end of the campaign before it. */
  last: number;
  /** How many of its devices wait for a due time. */
  devices: number;
}

/** Members per ZRANGE page: the due set is usually small (busy devices), but may not be. */
const PAGE = 2_000;

/**
 * Reads one budget lane's due set (`LaneKeys.due`, `campaignId.machineId` scored by when the
 * device is due) into the next and last due time of each campaign. Read-only and not atomic:
 * a device dispatched between two pages is simply missed, which a display can live with.
 */
export async function readNextAttempts(
  redis: Pick<Redis, 'zrange'>,
  dueKey: string,
): Promise<Map<string, NextAttempt>> {
  const found = new Map<string, NextAttempt>();
  for (let start = 0; ; start += PAGE) {
    const page = await redis.zrange(dueKey, start, start + PAGE - 1, 'WITHSCORES');
    for (let i = 0; i + 1 < page.length; i += 2) {
      const member = page[i] ?? '';
      const at = Number(page[i + 1]);
      const dot = member.indexOf('.');
      if (dot <= 0 || !Number.isFinite(at)) continue;
      const campaignId = member.slice(0, dot);
      const seen = found.get(campaignId);
      // Pages come in score order: the first one seen is the earliest.
      if (seen) {
        seen.last = Math.max(seen.last, at);
        seen.devices += 1;
      } else found.set(campaignId, { first: at, last: at, devices: 1 });
    }
    if (page.length < PAGE * 2) return found;
  }
}

/** Merges the due sets of several budgets (a campaign lives in one, so nothing overlaps). */
export async function readAllNextAttempts(
  redis: Pick<Redis, 'zrange'>,
  dueKeys: readonly string[],
): Promise<Map<string, NextAttempt>> {
  const merged = new Map<string, NextAttempt>();
  for (const key of new Set(dueKeys))
    for (const [id, next] of await readNextAttempts(redis, key)) merged.set(id, next);
  return merged;
}
