import type { ScanResult } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LifecycleStore } from '../tracking/lifecycle-store.js';
import type { GraphClient } from './graph-client.js';
import { HuntingError } from './hunting-error.js';
import { scanEvidenceQuery, timespanSince } from './scan-evidence-query.js';
import { parseScanEvents, proofFor, type ScanEvent } from './scan-proof.js';

export interface VerifyDeps {
  store: Pick<CampaignStore, 'iterateDevices'>;
  lifecycle: Pick<LifecycleStore, 'recordProof' | 'recordVerified'>;
  graph: Pick<GraphClient, 'runHuntingQuery'>;
  clock: Clock;
  log: Logger;
  /** Device ids per query (`hunting.chunkSize`). */
  chunkSize: number;
  /** Tries of one chunk after transient failures (429s wait in the gate and are not counted). */
  backoffTries?: number;
}

export interface VerifySummary {
  campaignId: string;
  /** Devices with a recorded action (the ones that can be proved). */
  devices: number;
  counts: Record<ScanResult, number>;
  queries: number;
  throttled: number;
}

/**
 * Proof of completion (`fleetscan verify`): the scan events of the campaign's devices since its
 * first request, a chunk of device ids per Graph hunting query, under the hunting budget. Each
 * device with an action gets completed / cancelled / failed / no-evidence, its time and type.
 */
export async function verifyCampaign(deps: VerifyDeps, campaignId: string): Promise<VerifySummary> {
  const targets: { machineId: string; createdMs: number }[] = [];
  for await (const d of deps.store.iterateDevices(campaignId)) {
    if (d.state !== 'requested' || d.machineActionId === null) continue;
    const created = Date.parse(d.actionCreatedAt ?? '');
    targets.push({
      machineId: d.machineId,
      createdMs: Number.isNaN(created) ? (d.requestedAt ?? 0) : created,
    });
  }
  const summary: VerifySummary = {
    campaignId,
    devices: targets.length,
    counts: { completed: 0, cancelled: 0, failed: 0, 'no-evidence': 0 },
    queries: 0,
    throttled: 0,
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
      ...proofFor(byDevice.get(t.machineId) ?? [], t.createdMs),
    }));
    for (const p of proofs) summary.counts[p.result] += 1;
    await deps.lifecycle.recordProof(campaignId, proofs);
  }
  await deps.lifecycle.recordVerified(campaignId, summary.counts, deps.clock.now());
  deps.log.info({ ...summary }, 'campaign verified');
  return summary;
}

async function queryChunk(
  deps: VerifyDeps,
  summary: VerifySummary,
  since: number,
  ids: string[],
): Promise<ScanEvent[]> {
  const query = scanEvidenceQuery(since, ids);
  let failures = 0;
  for (;;) {
    summary.queries += 1;
    try {
      const reply = await deps.graph.runHuntingQuery(query, {
        timespan: timespanSince(since, deps.clock.now()),
      });
      return parseScanEvents(reply.results);
    } catch (error) {
      if (!(error instanceof HuntingError)) throw error;
      // The gate is paused already: the next try waits there, so a 429 costs no try.
      if (error.retry === 'throttled') {
        summary.throttled += 1;
        continue;
      }
      failures += 1;
      if (error.retry !== 'backoff' || failures >= (deps.backoffTries ?? 3)) throw error;
      await deps.clock.sleep(500 * 2 ** failures);
    }
  }
}
