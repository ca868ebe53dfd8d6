import { createHash, randomBytes } from 'node:crypto';

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

/** 36^12: the number of distinct 12-character base36 tails. */
const TAIL_SPACE = 36n ** 12n;

/**
 * The campaign id of one planned run of a schedule: the same for every process that ever handles
 * that (schedule, planned instant), so a run claimed by a process that died before creating its
 * campaign is completed into the same campaign by whichever process finds the claim. 62 bits of
 * a SHA-256 of both: two schedules firing at the same instant never meet in one campaign.
 */
export function scheduledCampaignId(schedule: string, planned: number): string {
  const digest = createHash('sha256')
    .update(`schedule:${schedule}@${String(planned)}`)
    .digest();
  const tail = digest.readBigUInt64BE(0) % TAIL_SPACE;
  return `c-${tail.toString(36).padStart(12, '0')}`;
}
