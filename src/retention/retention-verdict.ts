import type { Campaign } from '../campaigns/campaign.js';

export type RetentionVerdict =
  | { action: 'archive'; endedAt: number }
  | { action: 'keep'; reason: 'not-ended' | 'too-recent'; endedAt: number | null };

/**
 * Whether a campaign is past retention: it must have ended (finished, or cancelled) and ended at
 * least `keepMs` before `now`. A cancelled campaign records no end time, so the caller passes
 * when it first saw it cancelled (`cancelledSeenAt`). Pure: tested as a table.
 */
export function retentionVerdict(
  campaign: Pick<Campaign, 'state' | 'finishedAt' | 'intakeOpen'>,
  input: { now: number; keepMs: number; cancelledSeenAt?: number | null },
): RetentionVerdict {
  let endedAt: number | null = null;
  if (campaign.state === 'finished' && campaign.intakeOpen !== true) endedAt = campaign.finishedAt;
  else if (campaign.state === 'cancelled')
    endedAt = campaign.finishedAt ?? input.cancelledSeenAt ?? null;
  else return { action: 'keep', reason: 'not-ended', endedAt: null };
  if (endedAt === null) return { action: 'keep', reason: 'not-ended', endedAt };
  return input.now - endedAt >= input.keepMs
    ? { action: 'archive', endedAt }
    : { action: 'keep', reason: 'too-recent', endedAt };
}

/** Only ended campaigns can be archived, whatever their age (`fleetscan archive ID`). */
export function isArchivable(campaign: Pick<Campaign, 'state' | 'intakeOpen'>): boolean {
  return (
    campaign.state === 'cancelled' ||
    (campaign.state === 'finished' && campaign.intakeOpen !== true)
  );
}
