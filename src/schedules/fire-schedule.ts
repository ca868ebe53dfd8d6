import type { Campaign } from '../campaigns/campaign.js';
import type { EvidenceSourceDeps } from '../control/evidence-sources.js';
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
  /** The tenant's Graph client, for hunting schedules. */
  graph?: ((tenant: string) => EvidenceSourceDeps['graph']) | undefined;
  /** Real time, for the campaign's createdAt. */
  realNow?: () => number;
  log: Logger;
}

/** Whether a run still has devices waiting (queued or deferred) or is still being filled. */
export function isRunActive(campaign: Campaign | null): boolean {
  if (!campaign || campaign.state === 'cancelled' || campaign.state === 'finished') return false;
  return campaign.counts.queued + campaign.counts.deferred > 0 || campaign.intakeOpen === true;
}

export interface FireRequest {
  planned: number;
  actual: number;
  manual: boolean;
  createdBy: string;
  /**
   * The run's campaign id, fixed when the run was claimed: a second call with it (a process
   * completing the claim of one that died, or a stale one waking up) re-runs into that campaign
   * and doubles nothing. Without it a new id is drawn (`schedule trigger`).
   */
  campaignId?: string | undefined;
}

/**
 * One run of a schedule: resolves its devices now and starts a campaign linked to it (the
 * schedule's name in the campaign and in the API comment). Never throws for a bad source: that
 * is the run's `failed-to-resolve` outcome, with the reason, unless its campaign already exists
 * (an earlier call created it): then the run is `started` and the reason says what went wrong.
 */
export async function fireSchedule(
  deps: FireDeps,
  spec: ScheduleSpec,
  at: FireRequest,
): Promise<FireRecord> {
  const base = { planned: at.planned, actual: at.actual, manual: at.manual };
  try {
    const existing = at.campaignId ? await deps.campaigns.getCampaign(at.campaignId) : null;
    if (existing && existing.schedule !== spec.name)
      throw new Error(
        `Campaign ${existing.id} belongs to ${existing.schedule === null ? 'no schedule' : `schedule ${existing.schedule}`}, not ${spec.name}; this run was not started.`,
      );
    const graph = deps.graph;
    const source = await openScheduleSource(
      spec.targets,
      () => deps.lister(spec.tenant),
      graph ? () => graph(spec.tenant) : undefined,
    );
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
        campaignId: at.campaignId,
        // A claimed run's id is drawn before its campaign exists: no reconcile for a new one.
        idDrawnAhead: true,
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
      counts: {
        // The campaign's devices: the same figure whether this call created it or completed it.
        queued: started.campaign.total,
        invalid: started.invalid,
        skipped: started.skipped,
      },
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const created = at.campaignId
      ? await deps.campaigns.getCampaign(at.campaignId).catch(() => null)
      : null;
    if (created?.schedule === spec.name) {
      deps.log.warn(
        { schedule: spec.name, campaignId: created.id, reason },
        'schedule run started, but not all of its devices could be added',
      );
      return {
        ...base,
        outcome: 'started',
        reason: `not all devices could be added: ${reason}`,
        campaignId: created.id,
        counts: { queued: created.total, invalid: 0, skipped: {} },
      };
    }
    deps.log.warn({ schedule: spec.name, reason }, 'schedule could not resolve its devices');
    return { ...base, outcome: 'failed-to-resolve', reason, campaignId: null, counts: null };
  }
}
