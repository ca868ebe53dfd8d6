import type { CampaignState } from '../campaigns/campaign.js';
import { campaignKeys } from '../campaigns/campaign-keys.js';
import { UnknownCampaignError } from '../campaigns/errors.js';
import { failureCode } from '../campaigns/failure-groups.js';
import { randomUUID } from 'node:crypto';
import { holdIntake } from '../campaigns/intake.js';
import { luaScript } from '../lua/lua-scripts.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import type { Lanes } from '../lanes/lanes.js';
import type { Redis } from '../shared/redis.js';

const requeueScript = luaScript('requeue-failed-3');
const BATCH = 1_000;

export interface RetryFailedDeps {
  redis: Redis;
  prefix: string;
  store: RedisCampaignStore;
  /** The deployment's lanes: retried devices go back into their tenant's lane. */
  lanes: Pick<Lanes, 'forTenant'>;
}

export interface RetryFailedRequest {
  campaignId: string;
  /** Only devices that failed with this code (the part of the reason before `:`); all when absent. */
  reason?: string | undefined;
}

export interface RetryFailedResult {
  campaignId: string;
  requeued: number;
  /** Requeued devices per failure code. */
  byReason: Record<string, number>;
  /** Requeued devices whose earlier call may have reached the API: looked up before any call. */
  lookupFirst: number;
  /** Requeued devices put in the budget's lane (ones already in line are not doubled). */
  devicesQueued: number;
  /** Deprecated: the BullMQ-era name of `devicesQueued`, kept in JSON output until 1.0.0. */
  jobsSubmitted: number;
  state: CampaignState;
  /**
   * Failed devices left failed because their code is permanent (`PERMANENT_FAILURE_CODES`), per
   * code: asked for without `reason`, a retry would fail them the same way. Name the code to
   * retry them anyway.
   */
  skipped: Record<string, number>;
}

/**
 * Failure codes a retry cannot change: the device cannot run the scan (its platform or sensor
 * version, mde-api.md "Errors") or is not known to Defender. `retry` without a reason leaves
 * them failed; `retry --reason CODE` retries them on purpose (after an agent update, say).
 * Permission and tenant errors (403) are not here: the operator can fix those and retry.
 */
export const PERMANENT_FAILURE_CODES: ReadonlySet<string> = new Set([
  'OsPlatformNotSupported',
  'ClientVersionNotSupported',
  'ResourceNotFound',
  'NotFound',
  'InvalidMachineId',
]);

/** Failed devices per code, from the campaign's counts: `{ OsPlatformNotSupported: 3, … }`. */
export function failureCodes(failuresByReason: Record<string, number>): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const [reason, n] of Object.entries(failuresByReason)) {
    if (n <= 0) continue;
    const code = reasonCode(reason);
    codes[code] = (codes[code] ?? 0) + n;
  }
  return codes;
}

/**
 * Of a campaign's failed devices, those `retry` without a reason queues again and those it leaves
 * failed (a permanent code), from the campaign's counts: what a confirmation may promise.
 */
export function retryableFailures(failuresByReason: Record<string, number>): {
  retryable: number;
  permanent: number;
} {
  let retryable = 0;
  let permanent = 0;
  for (const [code, n] of Object.entries(failureCodes(failuresByReason))) {
    if (PERMANENT_FAILURE_CODES.has(code)) permanent += n;
    else retryable += n;
  }
  return { retryable, permanent };
}

/** Why a retry was refused (unknown campaigns throw `UnknownCampaignError`). */
export class RetryRefusedError extends Error {
  override name = 'RetryRefusedError';
}

/**
 * The code of a stored failure reason, as `status` groups it (`failureCode`):
 * `ResourceNotFound: Machine not found` → `ResourceNotFound`; a bare sentence with its times and
 * ids blanked, so `--reason` accepts every code `status` prints.
 */
export function reasonCode(reason: string | null): string {
  return reason === null ? 'unknown' : failureCode(reason).code;
}

/**
 * Hands a campaign's failed devices (all but the permanent codes, or those of one failure code)
 * back to the workers: the one code path behind `fleetscan retry`, the dashboard's button and
 * `POST /api/v1/campaigns/{id}/retry`. A `reason` no failed device has is refused, naming the
 * codes present.
 * The intake is opened first, so a finished campaign runs again and cannot finish half-way while
 * devices move; each batch is moved in one Lua call and then pushed into the campaign's lane (the
 * push is idempotent, so a repeat doubles nothing). A paused campaign keeps them in line until
 * `resume`. A cancelled campaign cannot be retried.
 */
export async function retryFailed(
  deps: RetryFailedDeps,
  request: RetryFailedRequest,
): Promise<RetryFailedResult> {
  const { store, campaignId } = { ...deps, campaignId: request.campaignId };
  const campaign = await store.getCampaign(campaignId);
  if (!campaign) throw new UnknownCampaignError(campaignId);
  if (campaign.state === 'cancelled') {
    throw new RetryRefusedError(`Campaign ${campaignId} was cancelled; start a new one.`);
  }
  const present = failureCodes(campaign.failuresByReason);
  if (request.reason !== undefined && !(request.reason in present)) {
    const listed = Object.entries(present)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} (${String(n)})`);
    throw new RetryRefusedError(
      `No failed device of campaign ${campaignId} has the code ${request.reason}; ` +
        (listed.length > 0 ? `codes present: ${listed.join(', ')}` : 'no device failed'),
    );
  }
  const result: RetryFailedResult = {
    campaignId,
    requeued: 0,
    byReason: {},
    lookupFirst: 0,
    devicesQueued: 0,
    jobsSubmitted: 0,
    state: campaign.state,
    skipped: {},
  };
  const intake = await holdIntake(store, campaignId, randomUUID());
  try {
    const keys = campaignKeys(deps.prefix, campaignId);
    const flush = async (batch: { id: string; code: string }[]) => {
      const reply = (await requeueScript.run(
        deps.redis,
        [keys.campaign, keys.devices, keys.counts],
        batch.map((d) => d.id),
      )) as [string[], number] | null;
      if (!reply) throw new UnknownCampaignError(campaignId);
      const [moved, marked] = reply;
      const movedSet = new Set(moved);
      for (const device of batch) {
        if (movedSet.has(device.id)) {
          result.byReason[device.code] = (result.byReason[device.code] ?? 0) + 1;
        }
      }
      result.requeued += moved.length;
      result.lookupFirst += marked;
      const now = await store.getCampaign(campaignId);
      if (moved.length > 0 && now && now.state !== 'cancelled') {
        result.devicesQueued += await deps.lanes.forTenant(now.tenant).push(
          { id: campaignId, priority: now.priority, paused: now.state === 'paused' },
          moved.map((machineId) => ({ machineId })),
        );
        result.jobsSubmitted = result.devicesQueued;
      }
    };
    let batch: { id: string; code: string }[] = [];
    for await (const device of store.iterateDevices(campaignId)) {
      if (device.state !== 'failed') continue;
      const code = reasonCode(device.reason);
      if (request.reason !== undefined && code !== request.reason) continue;
      if (request.reason === undefined && PERMANENT_FAILURE_CODES.has(code)) {
        result.skipped[code] = (result.skipped[code] ?? 0) + 1;
        continue;
      }
      batch.push({ id: device.machineId, code });
      if (batch.length >= BATCH) {
        await flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await flush(batch);
  } finally {
    // Closing applies the finished rule: with nothing requeued, a finished campaign stays one.
    const closed = await intake.release();
    if (closed) result.state = closed.state;
  }
  return result;
}
