import { PRIORITIES, type Campaign } from '../campaigns/campaign.js';

type Lined = Pick<Campaign, 'id' | 'tenant' | 'priority' | 'state'> & { remaining: number };

/**
 * How many of its budget's calls go to other campaigns before `campaign` is done, by the
 * lanes' order: every waiting device of a higher class of the same tenant first; within its
 * class, campaigns take turns, so another campaign takes min(its remaining, ours) of the slots;
 * lower classes take none (the reserve aside). Running campaigns only: paused ones wait.
 */
export function slotsAhead(campaign: Lined, others: readonly Lined[]): number {
  const rank = PRIORITIES.indexOf(campaign.priority);
  let ahead = 0;
  for (const other of others) {
    if (other.id === campaign.id || other.state !== 'running') continue;
    if (other.tenant !== campaign.tenant) continue;
    const otherRank = PRIORITIES.indexOf(other.priority);
    if (otherRank < rank) ahead += other.remaining;
    else if (otherRank === rank) ahead += Math.min(other.remaining, campaign.remaining);
  }
  return ahead;
}
