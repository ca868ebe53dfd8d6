import type { Redis } from '../shared/redis.js';
import type { CancelResult, DeviceThreats, ScanResult } from '../campaigns/campaign.js';
import { campaignKeys } from '../campaigns/campaign-keys.js';
import { CODE_BY_CANCEL, CODE_BY_SCAN_RESULT, encodeThreats } from '../campaigns/device-codec.js';
import { luaScript } from '../lua/lua-scripts.js';

const trackScript = luaScript('track-statuses-2');
const mergeScript = luaScript('merge-device-fields-1');

/** Ids per script call: cheap, and never blocks Redis for long. */
const BATCH = 1_000;

/** One action as the tracker saw it, for the device that recorded it. */
export interface StatusUpdate {
  machineId: string;
  actionId: string;
  status: string;
  /** `lastUpdateDateTimeUtc`, or '' when the API gave none. */
  updatedAt: string;
}

/** Per-campaign lifecycle facts beside the campaign hash (`…:campaign:<id>:lifecycle`). */
export interface CampaignLifecycle {
  /** Every action was terminal (and nothing more could be requested): tracking stopped. */
  settledAt: number | null;
  /** Tracking stopped at the horizon with `openAtEnd` actions still unfinished. */
  trackingEndedAt: number | null;
  openAtEnd: number | null;
  lastTrackedAt: number | null;
  verifiedAt: number | null;
  /** Per-result device counts of the last verify run. */
  proof: Record<ScanResult, number> | null;
  /** What the scans found, per the last verify run (null before one that looked). */
  findings: CampaignFindings | null;
  /** Counts of the last `cancel --actions` run, summed over runs. */
  cancels: Record<CancelResult, number>;
}

/** A campaign's findings: the devices verify saw with detections, and what they add up to. */
export interface CampaignFindings {
  /** Devices with at least one detection in their window ("devices with detections"). */
  devices: number;
  /** Detections over all devices. */
  detections: number;
  /** Devices with a detection that was not (or not known to be) remediated. */
  unremediatedDevices: number;
  /** Devices with a new alert. */
  alertedDevices: number;
  /** Devices verify looked at (the rest of the verified ones are clean). */
  checked: number;
}

export const NO_FINDINGS: CampaignFindings = {
  devices: 0,
  detections: 0,
  unremediatedDevices: 0,
  alertedDevices: 0,
  checked: 0,
};

/** Thrown when a fenced write finds the tracker lock gone or taken over. */
export class FencedOutError extends Error {
  override name = 'FencedOutError';
  /** Another tracker owns the work now: not an error to retry, the round simply ends. */
  readonly retryable = false;
}

export function lifecycleKey(prefix: string, campaignId: string): string {
  return `${campaignKeys(prefix, campaignId).campaign}:lifecycle`;
}

/** HASH lock key -> highest fencing token that wrote to this campaign (track-statuses-2.lua). */
function fencesKey(prefix: string, campaignId: string): string {
  return `${campaignKeys(prefix, campaignId).campaign}:fences`;
}

/**
 * The lock is in another Cluster slot than the campaign, so the scripts cannot read it: the
 * caller checks it just before, and the campaign's own fence refuses a stale holder's write
 * once its successor has written (a holder that lost the lock between the two steps writes
 * before its successor, which then overwrites it: the order of writes stays the tokens' order).
 */
async function assertHolds(redis: Redis, lock: { key: string; value: string }): Promise<void> {
  if ((await redis.get(lock.key)) !== lock.value) {
    throw new FencedOutError(`Tracker lock ${lock.key} was lost mid-round`);
  }
}

const num = (value: string | undefined): number | null =>
  value === undefined || value === '' ? null : Number(value);

/**
 * The lifecycle record from the fields of its hash: read live from Redis, or from an archive's
 * header (`retention`), which keeps the hash as it was when the campaign was archived.
 */
export function decodeLifecycle(h: Readonly<Record<string, string>>): CampaignLifecycle {
  const proof =
    h['verifiedAt'] === undefined
      ? null
      : {
          completed: Number(h['proof:completed'] ?? 0),
          cancelled: Number(h['proof:cancelled'] ?? 0),
          failed: Number(h['proof:failed'] ?? 0),
          ambiguous: Number(h['proof:ambiguous'] ?? 0),
          'no-evidence': Number(h['proof:no-evidence'] ?? 0),
        };
  const findings =
    h['findings:checked'] === undefined
      ? null
      : {
          devices: Number(h['findings:devices'] ?? 0),
          detections: Number(h['findings:detections'] ?? 0),
          unremediatedDevices: Number(h['findings:unremediatedDevices'] ?? 0),
          alertedDevices: Number(h['findings:alertedDevices'] ?? 0),
          checked: Number(h['findings:checked']),
        };
  return {
    settledAt: num(h['settledAt']),
    trackingEndedAt: num(h['trackingEndedAt']),
    openAtEnd: num(h['openAtEnd']),
    lastTrackedAt: num(h['lastTrackedAt']),
    verifiedAt: num(h['verifiedAt']),
    proof,
    findings,
    cancels: {
      cancelled: Number(h['cancel:cancelled'] ?? 0),
      'already-final': Number(h['cancel:already-final'] ?? 0),
      refused: Number(h['cancel:refused'] ?? 0),
    },
  };
}

/** Reads and writes the tracker's, kill switch's and verify's records of a campaign. */
export function createLifecycleStore(redis: Redis, prefix: string) {
  return {
    async get(campaignId: string): Promise<CampaignLifecycle> {
      return decodeLifecycle(await redis.hgetall(lifecycleKey(prefix, campaignId)));
    },

    /** Fenced: only while `lockValue` still holds `lockKey`. Returns how many devices changed. */
    async writeStatuses(
      campaignId: string,
      updates: readonly StatusUpdate[],
      lock: { key: string; value: string },
    ): Promise<number> {
      const devices = campaignKeys(prefix, campaignId).devices;
      let changed = 0;
      for (let i = 0; i < updates.length; i += BATCH) {
        const args = updates
          .slice(i, i + BATCH)
          .flatMap((u) => [u.machineId, u.actionId, u.status, u.updatedAt]);
        await assertHolds(redis, lock);
        const reply = Number(
          await trackScript.run(
            redis,
            [devices, fencesKey(prefix, campaignId)],
            [lock.key, lock.value, ...args],
          ),
        );
        if (reply < 0) throw new FencedOutError(`Tracker lock ${lock.key} was lost mid-round`);
        changed += reply;
      }
      return changed;
    },

    /** Fenced meta write (settled, horizon reached, last round). */
    async writeMeta(
      campaignId: string,
      fields: Record<string, string | number>,
      lock: { key: string; value: string },
    ): Promise<void> {
      await assertHolds(redis, lock);
      const ok = await luaScript('lifecycle-meta-2').run(
        redis,
        [lifecycleKey(prefix, campaignId), fencesKey(prefix, campaignId)],
        [lock.key, lock.value, ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)])],
      );
      if (ok !== 1) throw new FencedOutError(`Tracker lock ${lock.key} was lost mid-round`);
    },

    async recordCancelResults(
      campaignId: string,
      results: readonly { machineId: string; result: CancelResult }[],
    ): Promise<void> {
      await merge(
        campaignId,
        results.map((r) => [r.machineId, { k: CODE_BY_CANCEL[r.result] }]),
      );
      const totals = new Map<CancelResult, number>();
      for (const r of results) totals.set(r.result, (totals.get(r.result) ?? 0) + 1);
      for (const [result, n] of totals) {
        await redis.hincrby(lifecycleKey(prefix, campaignId), `cancel:${result}`, n);
      }
    },

    async recordProof(
      campaignId: string,
      results: readonly {
        machineId: string;
        result: ScanResult;
        at: string | null;
        scanType: string | null;
        threats?: DeviceThreats;
      }[],
    ): Promise<void> {
      await merge(
        campaignId,
        results.map((r) => [
          r.machineId,
          {
            p: CODE_BY_SCAN_RESULT[r.result],
            pt: r.at ?? '',
            pk: r.scanType ?? '',
            ...(r.threats ? { h: encodeThreats(r.threats) } : {}),
          },
        ]),
      );
    },

    /** The counts of a complete verify run (proof and findings), with its time. */
    async recordVerified(
      campaignId: string,
      counts: Record<ScanResult, number>,
      at: number,
      findings?: CampaignFindings,
    ): Promise<void> {
      await redis.hset(lifecycleKey(prefix, campaignId), {
        verifiedAt: String(at),
        ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [`proof:${k}`, String(v)])),
        ...(findings
          ? Object.fromEntries(
              Object.entries(findings).map(([k, v]) => [`findings:${k}`, String(v)]),
            )
          : {}),
      });
    },
  };

  async function merge(campaignId: string, patches: [string, Record<string, string>][]) {
    const devices = campaignKeys(prefix, campaignId).devices;
    for (let i = 0; i < patches.length; i += BATCH) {
      const args = patches
        .slice(i, i + BATCH)
        .flatMap(([id, patch]) => [id, JSON.stringify(patch)]);
      await mergeScript.run(redis, [devices], args);
    }
  }
}

export type LifecycleStore = ReturnType<typeof createLifecycleStore>;
