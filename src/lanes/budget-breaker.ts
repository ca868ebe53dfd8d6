import type { Redis } from '../shared/redis.js';
import { BLOCK_REASONS, type BlockReason, type TenantFault } from '../tenants/tenant-fault.js';
import { luaScript } from '../lua/lua-scripts.js';

/** A blocked budget as every process sees it (docs/design.md "Tenant-wide fault breaker"). */
export interface BlockedBudget {
  reason: BlockReason;
  /** What was wrong and how to fix it. */
  message: string;
  /** When the block began (ms). */
  since: number;
  /** When dispatch grants the next probe (ms). */
  probeAt: number;
  /** Probes that failed since the block began (the backoff exponent). */
  failures: number;
}

/** What a trip or a clear changed; `none`: the state was already so (nothing to log). */
export type BreakerChange =
  | { kind: 'blocked'; state: BlockedBudget }
  | { kind: 'unblocked'; previous: BlockedBudget }
  | { kind: 'none' };

export interface BreakerSettings {
  /** First probe delay; doubled after each failed probe (`limits.breaker.probeMin`). */
  probeMinMs: number;
  /** Longest probe delay (`limits.breaker.probeMax`). */
  probeMaxMs: number;
}

/** The breaker state of one budget, in one Redis hash that dispatch-n.lua reads. */
export interface BudgetBreaker {
  read(): Promise<BlockedBudget | null>;
  /**
   * Records a tenant-wide fault. `probe`: the fault came from the probe turn, so the next probe
   * backs off further; a fault of a turn granted before the block changes nothing.
   */
  trip(fault: TenantFault, probe: boolean): Promise<BreakerChange>;
  /** A probe's call was accepted: dispatch resumes, and every dispatcher is woken. */
  clear(): Promise<BreakerChange>;
  /** The probe turn ended without a call (its device was done): probe again at once. */
  release(): Promise<void>;
}

export interface BudgetBreakerOptions {
  redis: Redis;
  key: string;
  /** The wake-up channel and this budget's tag on it. */
  channel: string;
  tag: string;
  nowArg(): number | '';
  settings: BreakerSettings;
}

export function createBudgetBreaker(options: BudgetBreakerOptions): BudgetBreaker {
  const { redis, key, settings } = options;
  const read = async () => parseBlocked(await redis.hgetall(key));
  return {
    read,
    async trip(fault, probe) {
      const changed = Number(
        await luaScript('breaker-trip-1').run(
          redis,
          [key],
          [
            options.nowArg(),
            fault.reason,
            fault.message,
            probe ? '1' : '0',
            settings.probeMinMs,
            settings.probeMaxMs,
          ],
        ),
      );
      const state = changed === 0 ? null : await read();
      return state ? { kind: 'blocked', state } : { kind: 'none' };
    },
    async clear() {
      const flat = (await luaScript('breaker-clear-1').run(
        redis,
        [key],
        [options.channel, options.tag],
      )) as string[] | null;
      const fields: Record<string, string> = {};
      for (let i = 0; flat && i + 1 < flat.length; i += 2) {
        fields[flat[i] as string] = flat[i + 1] as string;
      }
      const previous = parseBlocked(fields);
      return previous ? { kind: 'unblocked', previous } : { kind: 'none' };
    },
    async release() {
      await luaScript('breaker-release-1').run(
        redis,
        [key],
        [options.nowArg(), options.channel, options.tag],
      );
    },
  };
}

/** The breaker hash as stored, or null when the budget is not blocked. */
export function parseBlocked(fields: Record<string, string>): BlockedBudget | null {
  const reason = fields['reason'];
  if (reason === undefined) return null;
  return {
    reason: (BLOCK_REASONS as readonly string[]).includes(reason)
      ? (reason as BlockReason)
      : 'credentials_rejected',
    message: fields['message'] ?? '',
    since: Number(fields['since'] ?? 0),
    probeAt: Number(fields['probeAt'] ?? 0),
    failures: Number(fields['failures'] ?? 0),
  };
}

/** `limits.breaker` of a configuration, as the lanes take it. */
export function breakerSettings(config: {
  readonly limits: { readonly breaker: { probeMin: number; probeMax: number } };
}): BreakerSettings {
  const { probeMin, probeMax } = config.limits.breaker;
  return { probeMinMs: probeMin, probeMaxMs: Math.max(probeMin, probeMax) };
}
