import type { Redis } from '../shared/redis.js';
import { BLOCK_REASONS, type BlockReason, type TenantFault } from '../tenants/tenant-fault.js';
import { runScript, scriptSource } from '../lua/run-script.js';

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

const NOW = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * KEYS[1] breaker hash; ARGV: nowMs or '', reason, message, 1 when a probe failed, probe min ms,
 * probe max ms. Output: 1 newly blocked, 2 a probe failed for another reason, 0 no change.
 */
const TRIP = scriptSource(`${NOW}
local key, reason, message = KEYS[1], ARGV[2], ARGV[3]
local minMs, maxMs = tonumber(ARGV[5]), tonumber(ARGV[6])
local current = redis.call('HGET', key, 'reason')
if not current then
  redis.call('HSET', key, 'reason', reason, 'message', message, 'since', now,
    'probeAt', now + minMs, 'failures', 0)
  return 1
end
if ARGV[4] ~= '1' then return 0 end
local failures = redis.call('HINCRBY', key, 'failures', 1)
redis.call('HSET', key, 'reason', reason, 'message', message,
  'probeAt', now + math.min(maxMs, minMs * 2 ^ failures))
if current ~= reason then return 2 end
return 0`);

/** KEYS[1] breaker hash; ARGV: channel, tag. Output: the cleared hash (flat), or empty. */
const CLEAR = scriptSource(`
local state = redis.call('HGETALL', KEYS[1])
if #state > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return state`);

/** KEYS[1] breaker hash; ARGV: nowMs or '', channel, tag. */
const RELEASE = scriptSource(`${NOW}
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'probeAt', now)
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1`);

export function createBudgetBreaker(options: BudgetBreakerOptions): BudgetBreaker {
  const { redis, key, settings } = options;
  const read = async () => parseBlocked(await redis.hgetall(key));
  return {
    read,
    async trip(fault, probe) {
      const changed = Number(
        await runScript(
          redis,
          TRIP,
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
      const flat = (await runScript(redis, CLEAR, [key], [options.channel, options.tag])) as
        string[] | null;
      const fields: Record<string, string> = {};
      for (let i = 0; flat && i + 1 < flat.length; i += 2) {
        fields[flat[i] as string] = flat[i + 1] as string;
      }
      const previous = parseBlocked(fields);
      return previous ? { kind: 'unblocked', previous } : { kind: 'none' };
    },
    async release() {
      await runScript(redis, RELEASE, [key], [options.nowArg(), options.channel, options.tag]);
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
