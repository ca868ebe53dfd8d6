import type { Config } from '../config/schema.js';
import type { Redis } from '../shared/redis.js';
import { budgetIdFor } from './budget-id.js';
import { normaliseWindows } from '../config/duration.js';
import { budgetKeys } from './budget-keys.js';
import { redisTimeMs } from '../shared/redis-time.js';

/**
 * When each slot counted in each window of the scan budget leaves it, in ms from now, soonest
 * first (windows in the limiter's order, shortest first). Read from the limiter's own logs, so
 * an ETA replays the real slot times instead of assuming them evenly spread. A call still in
 * flight is counted until its reply: it leaves one window length from now at the earliest.
 * Read-only; counts exactly what `usage-n.lua` counts.
 */
export async function readSlotExits(redis: Redis, config: Config): Promise<number[][]> {
  const leaseMs = config.limits.lease;
  const windows = normaliseWindows(config.limits.windows);
  const scope = config.limits.budgetScope === 'shared' ? 'all' : 'scan';
  const keys = budgetKeys(config.redis.budgetPrefix, budgetIdFor(config), scope, windows);
  const guard = config.limits.guard;
  const now = await redisTimeMs(redis);
  const longest = Math.max(...windows.map((w) => w.windowMs)) + guard;
  const pipeline = redis.pipeline();
  pipeline.zrangebyscore(
    keys.inflight,
    `(${String(now - leaseMs - longest)}`,
    '+inf',
    'WITHSCORES',
  );
  windows.forEach((window, i) => {
    const key = keys.windows[i] ?? '';
    pipeline.zrangebyscore(key, `(${String(now - window.windowMs - guard)}`, '+inf', 'WITHSCORES');
  });
  const replies = (await pipeline.exec()) ?? [];
  const inflight = (replies[0]?.[1] as string[] | undefined) ?? [];
  return windows.map((window, i) => {
    const span = window.windowMs + guard;
    const flat = (replies[i + 1]?.[1] as string[] | undefined) ?? [];
    const exits: number[] = [];
    for (let k = 1; k < flat.length; k += 2) exits.push(Math.max(0, Number(flat[k]) + span - now));
    // In flight: counted while granted within lease + span, as usage-n.lua does.
    for (let k = 1; k < inflight.length; k += 2)
      if (Number(inflight[k]) > now - leaseMs - span) exits.push(span);
    return exits.sort((a, b) => a - b);
  });
}
