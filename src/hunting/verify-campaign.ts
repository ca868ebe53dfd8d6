import type { DeviceRecord, ScanResult } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LifecycleStore } from '../tracking/lifecycle-store.js';
import type { GraphClient } from './graph-client.js';
import { HuntingError } from './hunting-error.js';
import { scanEvidenceQuery, timespanSince } from './scan-evidence-query.js';
import { parseScanEvents, proofFor, type ScanEvent } from './scan-proof.js';

export interface VerifyDeps {
  store: Pick<CampaignStore, 'iterateDevices' | 'getCampaign'>;
  lifecycle: Pick<LifecycleStore, 'recordProof' | 'recordVerified'>;
  graph: Pick<GraphClient, 'runHuntingQuery'>;
  clock: Clock;
  log: Logger;
  /** Device ids per query (`hunting.chunkSize`). */
  chunkSize: number;
  /** Tries of one chunk after transient failures (429s wait in the gate and are not counted). */
  backoffTries?: number;
  /** Rows at which an answer counts as cut (default `HUNTING_MAX_ROWS`). */
  maxRows?: number;
}

export interface VerifySummary {
  campaignId: string;
  /** Devices with a recorded action (the ones that can be proved). */
  devices: number;
  counts: Record<ScanResult, number>;
  queries: number;
  throttled: number;
  /** Chunks asked again as two halves (answer at the row limit, or refused with a 400). */
  splits: number;
}

/**
 * When the device took the command: the tracker's Succeeded time when it saw one, else the
 * action's creation (no scan of it can have ended earlier).
 */
function deliveredMs(d: DeviceRecord): number {
  const created = Date.parse(d.actionCreatedAt ?? '');
  const createdMs = Number.isNaN(created) ? (d.requestedAt ?? 0) : created;
  if (d.actionStatus?.toLowerCase() !== 'succeeded') return createdMs;
  const updated = Date.parse(d.actionUpdatedAt ?? '');
  return Number.isNaN(updated) ? createdMs : Math.max(createdMs, updated);
}

/**
 * Proof of completion (`fleetscan verify`): the scan events of the campaign's devices since its
 * first request, a chunk of device ids per Graph hunting query, under the hunting budget. Each
 * device with an action gets completed / cancelled / failed / ambiguous / no-evidence, its time
 * and type, by `proofFor`'s rule: only scans of the campaign's kind that ended after delivery.
 */
export async function verifyCampaign(deps: VerifyDeps, campaignId: string): Promise<VerifySummary> {
  const campaign = await deps.store.getCampaign(campaignId);
  if (!campaign) throw new RangeError(`No campaign ${campaignId}`);
  const targets: { machineId: string; createdMs: number; deliveredMs: number }[] = [];
  for await (const d of deps.store.iterateDevices(campaignId)) {
    if (d.state !== 'requested' || d.machineActionId === null) continue;
    const created = Date.parse(d.actionCreatedAt ?? '');
    targets.push({
      machineId: d.machineId,
      createdMs: Number.isNaN(created) ? (d.requestedAt ?? 0) : created,
      deliveredMs: deliveredMs(d),
    });
  }
  const summary: VerifySummary = {
    campaignId,
    devices: targets.length,
    counts: { completed: 0, cancelled: 0, failed: 0, ambiguous: 0, 'no-evidence': 0 },
    queries: 0,
    throttled: 0,
    splits: 0,
  };
  if (targets.length === 0) {
    await deps.lifecycle.recordVerified(campaignId, summary.counts, deps.clock.now());
    return summary;
  }
  const since = Math.min(...targets.map((t) => t.createdMs));
  for (let i = 0; i < targets.length; i += deps.chunkSize) {
    const chunk = targets.slice(i, i + deps.chunkSize);
    const events = await queryChunk(
      deps,
      summary,
      since,
      chunk.map((t) => t.machineId),
    );
    const byDevice = new Map<string, ScanEvent[]>();
    for (const e of events) byDevice.set(e.deviceId, [...(byDevice.get(e.deviceId) ?? []), e]);
    const proofs = chunk.map((t) => ({
      machineId: t.machineId,
      ...proofFor(byDevice.get(t.machineId) ?? [], campaign.scanType, t.deliveredMs),
    }));
    for (const p of proofs) summary.counts[p.result] += 1;
    await deps.lifecycle.recordProof(campaignId, proofs);
  }
  await deps.lifecycle.recordVerified(campaignId, summary.counts, deps.clock.now());
  deps.log.info({ ...summary }, 'campaign verified');
  return summary;
}

/**
 * Advanced hunting returns at most this many rows and cuts the rest silently (Microsoft Learn,
 * "Microsoft Defender XDR advanced hunting API", quotas): a full answer may be a cut one.
 */
export const HUNTING_MAX_ROWS = 100_000;

/**
 * The scan events of `ids`. A chunk whose answer may have been cut (it reached the row limit) or
 * that the service refused (400: the query ran past the execution-time limit, or was too large)
 * is asked again as two halves; a single device that still fails throws. 429s wait in the gate
 * and cost no try; transient failures retry with backoff.
 */
async function queryChunk(
  deps: VerifyDeps,
  summary: VerifySummary,
  since: number,
  ids: string[],
): Promise<ScanEvent[]> {
  const halves = async (): Promise<ScanEvent[]> => {
    const middle = Math.ceil(ids.length / 2);
    summary.splits += 1;
    return [
      ...(await queryChunk(deps, summary, since, ids.slice(0, middle))),
      ...(await queryChunk(deps, summary, since, ids.slice(middle))),
    ];
  };
  const query = scanEvidenceQuery(since, ids);
  let failures = 0;
  for (;;) {
    summary.queries += 1;
    try {
      const reply = await deps.graph.runHuntingQuery(query, {
        timespan: timespanSince(since, deps.clock.now()),
      });
      if (reply.results.length >= (deps.maxRows ?? HUNTING_MAX_ROWS) && ids.length > 1)
        return await halves();
      return parseScanEvents(reply.results);
    } catch (error) {
      if (!(error instanceof HuntingError)) throw error;
      // The gate is paused already: the next try waits there, so a 429 costs no try.
      if (error.retry === 'throttled') {
        summary.throttled += 1;
        continue;
      }
      if (error.status === 400 && ids.length > 1) return await halves();
      failures += 1;
      if (error.retry !== 'backoff' || failures >= (deps.backoffTries ?? 3)) throw error;
      await deps.clock.sleep(500 * 2 ** failures);
    }
  }
}
