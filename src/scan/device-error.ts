import type { DeviceRecord } from '../campaigns/campaign.js';
import { DefenderError, InvalidMachineIdError } from '../defender/errors.js';
import type { MachineAction } from '../defender/machine-action.js';
import type { Logger } from '../shared/logger.js';
import { tenantFault, type TenantFault } from '../tenants/tenant-fault.js';
import { findOwnAction } from '../tracking/find-own-action.js';
import { decidePending } from './pending-delay.js';
import type { DeviceTurn, ScanApi, ScanProcessorDeps } from './scan-ports.js';

export interface TurnContext {
  campaignId: string;
  machineId: string;
  /** Campaign creation time: the lower bound of the own-action lookup. */
  since: number;
  /** Failed attempts before this turn. */
  tries: number;
  /** The device as last read or as `markSent` left it; null when the turn failed before either. */
  device: DeviceRecord | null;
  client: ScanApi;
  log: Logger;
  record(action: MachineAction, lostReply: boolean): Promise<DeviceTurn>;
}

/** The failure reason shown in status and export: Microsoft's code, then its message. */
export function failureReason(error: DefenderError): string {
  return error.apiMessage ? `${error.code}: ${error.apiMessage}` : error.code;
}

export type Lookup =
  | { kind: 'found'; action: MachineAction }
  | { kind: 'none' }
  /** The lookup could not be made: the device's turn ends so. */
  | { kind: 'turn'; turn: DeviceTurn };

/**
 * This campaign's own action for the device, if an earlier call made one. A throttled lookup
 * makes the device due when the pause ends (no attempt spent); another failure spends one.
 */
export async function lookupOwnAction(ctx: TurnContext, deps: ScanProcessorDeps): Promise<Lookup> {
  try {
    const own = await findOwnAction(ctx.client, ctx);
    return own ? { kind: 'found', action: own } : { kind: 'none' };
  } catch (error) {
    const fault = tenantFault(error);
    if (fault) return { kind: 'turn', turn: blockedTurn(fault) };
    if (error instanceof DefenderError && error.retry === 'throttled') {
      const ms = Math.max(1, error.retryAfterMs ?? deps.config.limits.throttleDefault);
      return {
        kind: 'turn',
        turn: { outcome: 'held', end: { kind: 'due', at: deps.clock.now() + ms, attempt: false } },
      };
    }
    return { kind: 'turn', turn: await failAttempt(error, errorCode(error), ctx, deps, false) };
  }
}

/**
 * A tenant-wide fault: no device is at fault, and every other would meet it. The device goes
 * back to the front of its line, no attempt spent; the budget's breaker stops dispatch.
 */
export function blockedTurn(fault: TenantFault): DeviceTurn {
  return { outcome: 'blocked', end: { kind: 'hold' }, tenant: fault };
}

/**
 * What a failed turn means for the device, by the error's retry policy (design.md, worker flow
 * step 4). The device's state is recorded before the turn ends, so the campaign store is right
 * even if this process dies right after.
 */
export async function handleDeviceError(
  error: unknown,
  ctx: TurnContext,
  deps: ScanProcessorDeps,
): Promise<DeviceTurn> {
  const { campaignId, machineId } = ctx;
  const fault = tenantFault(error);
  if (fault) return blockedTurn(fault);
  if (error instanceof InvalidMachineIdError) {
    await deps.store.markFailed(campaignId, machineId, 'InvalidMachineId');
    return { outcome: 'failed', end: { kind: 'done' } };
  }
  if (!(error instanceof DefenderError)) return failAttempt(error, 'internal-error', ctx, deps);

  const details = { status: error.status, code: error.code, target: error.target };
  const turn = await deviceOutcome(error, details, ctx, deps);
  // Any answer about the device proves the tenant's token and permission work.
  const answered = error.status >= 400 && error.status < 500 && error.status !== 429;
  return answered ? { ...turn, tenant: turn.tenant ?? 'works' } : turn;
}

async function deviceOutcome(
  error: DefenderError,
  details: { status: number; code: string; target: string | undefined },
  ctx: TurnContext,
  deps: ScanProcessorDeps,
): Promise<DeviceTurn> {
  const { store, clock } = deps;
  const { campaignId, machineId, log } = ctx;
  switch (error.retry) {
    case 'later': {
      // Busy. If the unfinished action is our own, an earlier reply was lost: record it.
      const looked = await lookupOwnAction(ctx, deps);
      if (looked.kind === 'found') return ctx.record(looked.action, true);
      if (looked.kind === 'turn') return looked.turn;
      const now = clock.now();
      const decision = decidePending(
        deps.config.scan,
        ctx.device?.firstBusyAt ?? null,
        now,
        (deps.random ?? Math.random)(),
      );
      if (decision.kind === 'timeout') {
        await store.markFailed(campaignId, machineId, 'pending-timeout');
        log.warn(
          { ...details, firstBusyAt: ctx.device?.firstBusyAt ?? null },
          'device still busy at the deadline',
        );
        return { outcome: 'failed', end: { kind: 'done' } };
      }
      await store.markDeferred(campaignId, machineId, { until: decision.until, at: now });
      log.info({ ...details, until: decision.until }, 'device busy, deferred');
      return { outcome: 'deferred', end: { kind: 'due', at: decision.until, attempt: false } };
    }
    case 'throttled':
      // The client has already paused this budget (only this one) for every process. A 429
      // created nothing: the next turn needs no lookup for this send (an earlier unanswered
      // one keeps the device "maybe sent").
      await store.markAnswered(campaignId, machineId).catch((markError: unknown) => {
        log.debug({ reason: String(markError) }, 'answered marker not written');
      });
      log.warn({ ...details, retryAfterMs: error.retryAfterMs }, 'throttled by the API');
      return { outcome: 'held', end: { kind: 'hold' } };
    case 'backoff':
      return failAttempt(error, error.code, ctx, deps);
    case 'never':
    case 'reauth': {
      const reason = failureReason(error);
      await store.markFailed(campaignId, machineId, reason);
      log.warn({ ...details, reason }, 'scan refused');
      return { outcome: 'failed', end: { kind: 'done' } };
    }
  }
}

/**
 * A transient failure spends one of `scan.attempts`; the device is due again after an
 * exponential backoff (half of it random, so devices that failed together spread out). The last
 * attempt looks for an action a lost reply may have made before recording the failure.
 */
async function failAttempt(
  error: unknown,
  reason: string,
  ctx: TurnContext,
  deps: ScanProcessorDeps,
  lookFirst = true,
): Promise<DeviceTurn> {
  const last = ctx.tries + 1 >= deps.config.scan.attempts;
  const message = error instanceof Error ? error.message : String(error);
  ctx.log.warn({ err: message, attempt: ctx.tries + 1, last }, 'scan attempt failed');
  if (last) {
    const own = lookFirst ? await findOwnAction(ctx.client, ctx).catch(() => null) : null;
    if (own) return ctx.record(own, true);
    await deps.store.markFailed(ctx.campaignId, ctx.machineId, reason);
    return { outcome: 'failed', end: { kind: 'done' } };
  }
  const random = (deps.random ?? Math.random)();
  const delay = deps.config.scan.backoff * 2 ** ctx.tries * (0.5 + 0.5 * random);
  return {
    outcome: 'retry',
    end: { kind: 'due', at: deps.clock.now() + Math.round(delay), attempt: true },
  };
}

function errorCode(error: unknown): string {
  if (error instanceof DefenderError) return error.code;
  return 'internal-error';
}
