import { createHash, randomBytes } from 'node:crypto';

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
  return `c-${timePart(now)}${base36Chars(randomBytes(4), 4)}`;
}

export function isCampaignId(value: string): boolean {
  return CAMPAIGN_ID_PATTERN.test(value);
}

/**
 * The campaign id of one planned run of a schedule: the same for every process that ever handles
 * that (schedule, planned instant), so a run claimed by a process that died before creating its
 * campaign is completed into the same campaign by whichever process finds the claim. The time
 * part is the planned instant (never later than the creation, so `campaignCreatedAt` stays a
 * safe lower bound); the other 4 characters come from a SHA-256 of both, so two schedules firing
 * at the same instant meet in one id with odds of 1 in 36^4 (and the runner refuses a campaign of
 * another schedule).
 */
export function scheduledCampaignId(schedule: string, planned: number): string {
  const digest = createHash('sha256')
    .update(`schedule:${schedule}@${String(planned)}`)
    .digest();
  return `c-${timePart(planned)}${base36Chars(digest, 4)}`;
}

function timePart(ms: number): string {
  return Math.floor(ms).toString(36).padStart(TIME_CHARS, '0').slice(-TIME_CHARS);
}

function base36Chars(bytes: Uint8Array, n: number): string {
  let out = '';
  for (const byte of bytes.subarray(0, n)) out += (byte % 36).toString(36);
  return out;
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
