import { randomBytes } from 'node:crypto';

/** `c-` + 12 lowercase base36 characters (docs/design.md "Queue, jobs, keys"). */
export const CAMPAIGN_ID_PATTERN = /^c-[a-z0-9]{12}$/;

/** Characters of the id that carry the creation time (ms, base36). */
const TIME_CHARS = 8;

/**
 * A new campaign id: 8 base36 characters of the creation time (so ids sort roughly by age and
 * stay unique across hosts for centuries) followed by 4 random ones (two ids made in the same
 * millisecond on two hosts still differ).
 */
export function newCampaignId(now: number = Date.now()): string {
  const time = Math.floor(now).toString(36).padStart(TIME_CHARS, '0').slice(-TIME_CHARS);
  const bytes = randomBytes(4);
  let random = '';
  for (const byte of bytes) random += (byte % 36).toString(36);
  return `c-${time}${random}`;
}

export function isCampaignId(value: string): boolean {
  return CAMPAIGN_ID_PATTERN.test(value);
}

/**
 * When the campaign was created (ms), read from its id; null for an id this code did not make
 * (not the pattern, or a time after `now`). A campaign whose records were lost still knows from
 * its id since when its actions can exist: the lower bound of the reconcile lookup.
 */
export function campaignCreatedAt(id: string, now: number = Date.now()): number | null {
  if (!isCampaignId(id)) return null;
  const ms = Number.parseInt(id.slice(2, 2 + TIME_CHARS), 36);
  return Number.isFinite(ms) && ms <= now ? ms : null;
}
