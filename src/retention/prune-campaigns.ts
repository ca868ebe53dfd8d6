import type { Campaign } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import { archiveCampaign, type ArchiverDeps } from './archive-campaign.js';
import type { ArchivedCampaign } from './archive-index.js';
import { retentionVerdict } from './retention-verdict.js';
import { recordAudit, type AuditSink } from '../audit/record-audit.js';

export interface PruneDeps extends ArchiverDeps {
  store: Pick<CampaignStore, 'getCampaign' | 'iterateDevices' | 'listCampaigns'>;
  /** Each archived (or failed) campaign is audited here: the worker's sweep or `prune`'s user. */
  audit?: AuditSink | undefined;
}

export interface PruneEntry {
  campaignId: string;
  name: string;
  state: Campaign['state'];
  devices: number;
  endedAt: number | null;
  /** `would-archive` in a dry run. */
  outcome: 'archived' | 'resumed' | 'would-archive' | 'failed';
  error?: string;
  archive?: ArchivedCampaign['archived'];
}

export interface PruneResult {
  entries: PruneEntry[];
  /** Campaigns left in Redis because they have not ended or ended less than `olderThanMs` ago. */
  kept: number;
}

/**
 * One retention round: finishes archives a crash left half-done, then archives every campaign
 * that ended at least `olderThanMs` ago, oldest first. A campaign that fails is reported and the
 * round goes on (the next round tries it again). `dryRun` only says what would happen.
 */
export async function pruneCampaigns(
  deps: PruneDeps,
  options: { olderThanMs: number; dryRun: boolean },
): Promise<PruneResult> {
  const now = deps.now();
  const entries: PruneEntry[] = [];
  const attempt = async (campaign: Campaign, endedAt: number | null) => {
    const base = {
      campaignId: campaign.id,
      name: campaign.name,
      state: campaign.state,
      devices: campaign.total,
      endedAt,
    };
    if (options.dryRun) {
      entries.push({ ...base, outcome: 'would-archive' });
      return;
    }
    let entry: PruneEntry;
    try {
      const done = await archiveCampaign(deps, campaign.id);
      if (done.outcome === 'already-archived') return;
      entry = { ...base, outcome: done.outcome, archive: done.campaign.archived };
    } catch (error) {
      entry = { ...base, outcome: 'failed', error: (error as Error).message };
    }
    entries.push(entry);
    if (deps.audit) {
      await recordAudit(deps.audit, {
        action: 'campaign.archive',
        target: campaign.id,
        outcome: entry.outcome === 'failed' ? 'failed' : 'ok',
        detail:
          entry.error ??
          `${String(entry.devices)} devices ${entry.outcome === 'resumed' ? 'resumed archive' : 'archived'} to ${entry.archive?.file ?? '?'}, removed from Redis`,
      });
    }
  };

  for (const pending of (await deps.index.list()).filter((c) => c.archived.phase === 'deleting')) {
    await attempt(pending, pending.finishedAt);
  }
  let kept = 0;
  const campaigns = [...(await deps.store.listCampaigns())].reverse(); // oldest first
  for (const campaign of campaigns) {
    const cancelledSeenAt =
      campaign.state !== 'cancelled' || campaign.finishedAt !== null
        ? null
        : options.dryRun
          ? await deps.index.seenEndedAt(campaign.id)
          : await deps.index.endedAt(campaign.id, now);
    const verdict = retentionVerdict(campaign, {
      now,
      keepMs: options.olderThanMs,
      cancelledSeenAt,
    });
    if (verdict.action === 'keep') kept += 1;
    else await attempt(campaign, verdict.endedAt);
  }
  return { entries, kept };
}
