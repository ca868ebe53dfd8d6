import type { Campaign, DeviceRecord, DeviceThreats, ScanResult } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import {
  NO_FINDINGS,
  type CampaignFindings,
  type LifecycleStore,
} from '../tracking/lifecycle-store.js';
import { findingsQuery } from './findings-query.js';
import type { GraphClient } from './graph-client.js';
import { HuntingError } from './hunting-error.js';
import { timespanSince } from './scan-evidence-query.js';
import { parseFindings, threatsIn, type AlertSeen, type Detection } from './scan-findings.js';
import { parseScanEvents, proofFor, SCAN_WINDOW_MS, type ScanEvent } from './scan-proof.js';

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
  /**
   * How long after a scan's end a detection still counts as its finding (`verify.findingsGrace`;
   * default `DEFAULT_FINDINGS_GRACE_MS`, the configuration's default).
   */
  graceMs?: number;
  /**
   * Told the devices of each chunk where something was found (the `campaign.threats-found`
   * webhook); called after their findings are recorded, on every run (the receiver dedupes).
   */
  onThreats?: (
    campaign: Campaign,
    found: readonly { machineId: string; threats: DeviceThreats }[],
  ) => Promise<void>;
}

export const DEFAULT_FINDINGS_GRACE_MS = 30 * 60_000;

/** Every chunk's rows, split by kind. */
interface ChunkRows {
  events: ScanEvent[];
  detections: Detection[];
  alerts: AlertSeen[];
}

function byDevice<T extends { deviceId: string }>(items: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(item.deviceId, [...(map.get(item.deviceId) ?? []), item]);
  return map;
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
  /** What the scans found: devices with detections, and their sums. */
  findings: CampaignFindings;
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
 * Proof of completion and findings (`fleetscan verify`): the scan events, antivirus detections
 * and alerts of the campaign's devices since its first request, a chunk of device ids per Graph
 * hunting query, under the hunting budget. Each device with an action gets completed /
 * cancelled / failed / ambiguous / no-evidence, its time and type, by `proofFor`'s rule (only
 * scans of the campaign's kind that ended after delivery), and its threats: what was detected
 * from its request to its scan's end plus `graceMs` (`threatsIn`).
 */
export async function verifyCampaign(deps: VerifyDeps, campaignId: string): Promise<VerifySummary> {
  const campaign = await deps.store.getCampaign(campaignId);
  if (!campaign) throw new RangeError(`No campaign ${campaignId}`);
  const targets: { machineId: string; createdMs: number; deliveredMs: number }[] = [];
  const findings: CampaignFindings = { ...NO_FINDINGS };
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
    findings,
  };
  if (targets.length === 0) {
    await deps.lifecycle.recordVerified(campaignId, summary.counts, deps.clock.now(), findings);
    return summary;
  }
  const since = Math.min(...targets.map((t) => t.createdMs));
  for (let i = 0; i < targets.length; i += deps.chunkSize) {
    const chunk = targets.slice(i, i + deps.chunkSize);
    const rows = await queryChunk(
      deps,
      summary,
      since,
      chunk.map((t) => t.machineId),
    );
    const events = byDevice(rows.events);
    const detections = byDevice(rows.detections);
    const alerts = byDevice(rows.alerts);
    const proofs = chunk.map((t) => {
      const proof = proofFor(events.get(t.machineId) ?? [], campaign.scanType, t.deliveredMs);
      // The scan ended at its event; without one, at the latest a scan of its kind can end.
      const endedMs = proof.at === null ? NaN : Date.parse(proof.at);
      const endMs =
        (Number.isNaN(endedMs) ? t.deliveredMs + SCAN_WINDOW_MS[campaign.scanType] : endedMs) +
        (deps.graceMs ?? DEFAULT_FINDINGS_GRACE_MS);
      const threats = threatsIn(
        detections.get(t.machineId) ?? [],
        alerts.get(t.machineId) ?? [],
        t.createdMs,
        endMs,
      );
      return { machineId: t.machineId, ...proof, threats };
    });
    for (const p of proofs) {
      summary.counts[p.result] += 1;
      addFindings(findings, p.threats);
    }
    await deps.lifecycle.recordProof(campaignId, proofs);
    const found = proofs.filter((p) => p.threats.count > 0);
    if (found.length > 0) await deps.onThreats?.(campaign, found);
  }
  await deps.lifecycle.recordVerified(campaignId, summary.counts, deps.clock.now(), findings);
  deps.log.info({ ...summary }, 'campaign verified');
  return summary;
}

function addFindings(sum: CampaignFindings, t: DeviceThreats): void {
  sum.checked += 1;
  if (t.count > 0) sum.devices += 1;
  sum.detections += t.count;
  if (t.unremediated > 0) sum.unremediatedDevices += 1;
  if (t.alerts > 0) sum.alertedDevices += 1;
}

/**
 * Advanced hunting returns at most this many rows and cuts the rest silently (Microsoft Learn,
 * "Microsoft Defender XDR advanced hunting API", quotas): a full answer may be a cut one.
 */
export const HUNTING_MAX_ROWS = 100_000;

/**
 * The scan events, detections and alerts of `ids`. A chunk whose answer may have been cut (it reached the row limit) or
 * that the service refused (400: the query ran past the execution-time limit, or was too large)
 * is asked again as two halves; a single device that still fails throws. 429s wait in the gate
 * and cost no try; transient failures retry with backoff.
 */
async function queryChunk(
  deps: VerifyDeps,
  summary: VerifySummary,
  since: number,
  ids: string[],
): Promise<ChunkRows> {
  const halves = async (): Promise<ChunkRows> => {
    const middle = Math.ceil(ids.length / 2);
    summary.splits += 1;
    const first = await queryChunk(deps, summary, since, ids.slice(0, middle));
    const second = await queryChunk(deps, summary, since, ids.slice(middle));
    return {
      events: [...first.events, ...second.events],
      detections: [...first.detections, ...second.detections],
      alerts: [...first.alerts, ...second.alerts],
    };
  };
  const query = findingsQuery(since, ids);
  let failures = 0;
  for (;;) {
    summary.queries += 1;
    try {
      const reply = await deps.graph.runHuntingQuery(query, {
        timespan: timespanSince(since, deps.clock.now()),
      });
      if (reply.results.length >= (deps.maxRows ?? HUNTING_MAX_ROWS) && ids.length > 1)
        return await halves();
      return { events: parseScanEvents(reply.results), ...parseFindings(reply.results) };
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
