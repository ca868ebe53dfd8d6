import { randomBytes } from 'node:crypto';

/** `c-` + 12 lowercase base36 characters (docs/design.md "Queue, jobs, keys"). */
export const CAMPAIGN_ID_PATTERN = /^c-[a-z0-9]{12}$/;

/**
 * A new campaign id: 8 base36 characters of the creation time (so ids sort roughly by age and
 * stay unique across hosts for centuries) followed by 4 random ones (two ids made in the same
 * millisecond on two hosts still differ).
 */
export function newCampaignId(now: number = Date.now()): string {
  const time = Math.floor(now).toString(36).padStart(8, '0').slice(-8);
  const bytes = randomBytes(4);
  let random = '';
  for (const byte of bytes) random += (byte % 36).toString(36);
  return `c-${time}${random}`;
}

export function isCampaignId(value: string): boolean {
  return CAMPAIGN_ID_PATTERN.test(value);
}
