import { UnknownCampaignError } from './errors.js';
import {
  INTAKE_LEASE_MS,
  type RedisCampaignStore,
  type StateChange,
} from './redis-campaign-store.js';

/** One open intake of a campaign, renewed while held. */
export interface HeldIntake {
  /** The campaign's state change from opening it. */
  opened: StateChange;
  /** Stops renewing and closes it (the campaign may finish now). */
  release(): Promise<StateChange | null>;
}

/**
 * Opens intake `id` of a campaign and renews its lease in the background until `release`, so a
 * slow source (API pages waiting for their budget) never loses it, and a process that dies
 * loses it once the lease ends. Throws UnknownCampaignError for an unknown campaign.
 */
export async function holdIntake(
  store: Pick<RedisCampaignStore, 'openIntake' | 'renewIntake' | 'closeIntake'>,
  campaignId: string,
  id: string,
): Promise<HeldIntake> {
  const opened = await store.openIntake(campaignId, id);
  if (!opened) throw new UnknownCampaignError(campaignId);
  const timer = setInterval(() => {
    // A failed renewal is retried at the next tick; the lease outlasts two missed ones.
    store.renewIntake(campaignId, id).catch(() => undefined);
  }, INTAKE_LEASE_MS / 3);
  timer.unref();
  return {
    opened,
    async release() {
      clearInterval(timer);
      return store.closeIntake(campaignId, id);
    },
  };
}
