import type { Campaign } from '../campaigns/campaign.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import { startCampaign } from '../control/start-campaign.js';
import type { Lanes } from '../lanes/lanes.js';
import type { MachineLister } from '../producer/sources/resolve-targets.js';
import type { Logger } from '../shared/logger.js';
import type { FireRecord, ScheduleSpec } from './schedule.js';
import { openScheduleSource } from './schedule-source.js';

export interface FireDeps {
  campaigns: RedisCampaignStore;
  lanes: Pick<Lanes, 'forTenant'>;
  /** The tenant's List Machines client; throws for an unknown tenant or missing credentials. */
  lister: (tenant: string) => MachineLister;
  /** Real time, for the campaign's createdAt. */
  realNow?: () => number;
  log: Logger;
}

/** Whether a run still has devices waiting (queued or deferred) or is still being filled. */
export function isRunActive(campaign: Campaign | null): boolean {
  if (!campaign || campaign.state === 'cancelled' || campaign.state === 'finished') return false;
  return campaign.counts.queued + campaign.counts.deferred > 0 || campaign.intakeOpen === true;
}

/**
 * One run of a schedule: resolves its devices now and starts a campaign linked to it (the
 * schedule's name in the campaign and in the API comment). Never throws for a bad source: that
 * is the run's `failed-to-resolve` outcome, with the reason.
 */
export async function fireSchedule(
  deps: FireDeps,
  spec: ScheduleSpec,
  at: { planned: number; actual: number; manual: boolean; createdBy: string },
): Promise<FireRecord> {
  const base = { planned: at.planned, actual: at.actual, manual: at.manual };
  try {
    const source = await openScheduleSource(spec.targets, () => deps.lister(spec.tenant));
    const started = await startCampaign(
      { store: deps.campaigns, lanes: deps.lanes, ...(deps.realNow ? { now: deps.realNow } : {}) },
      {
        source,
        scanType: spec.scanType,
        comment: `${spec.comment} (schedule ${spec.name})`,
        name: `${spec.name} ${new Date(at.planned).toISOString().slice(0, 16)}Z`,
        createdBy: at.createdBy,
        tenant: spec.tenant,
        priority: spec.priority,
        window: spec.window,
        schedule: spec.name,
      },
    );
    deps.log.info(
      { schedule: spec.name, campaignId: started.campaign.id, queued: started.accepted },
      'schedule fired',
    );
    return {
      ...base,
      outcome: 'started',
      reason: null,
      campaignId: started.campaign.id,
      counts: { queued: started.accepted, invalid: started.invalid, skipped: started.skipped },
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    deps.log.warn({ schedule: spec.name, reason }, 'schedule could not resolve its devices');
    return { ...base, outcome: 'failed-to-resolve', reason, campaignId: null, counts: null };
  }
}
