import type { Redis } from '../shared/redis.js';
import { runScript, scriptSource } from '../lua/run-script.js';
import { scheduleKeys } from './schedule-keys.js';

/**
 * Takes the firing lock with a new fencing token (a counter, never reused) when it is free, or
 * renews it for the holder of `ARGV[1]`. KEYS[1] lock, KEYS[2] fence counter; ARGV[1] token held
 * ('' for none), ARGV[2] ttl ms. Returns the token now held, or '' when another process holds it.
 */
const TAKE_2 = scriptSource(`
local rcall = redis.call
local holder = rcall('GET', KEYS[1])
if holder ~= false and holder == ARGV[1] then
  rcall('PEXPIRE', KEYS[1], ARGV[2])
  return holder
end
if holder ~= false then return '' end
local token = tostring(rcall('INCR', KEYS[2]))
rcall('SET', KEYS[1], token, 'PX', ARGV[2])
return token`);

const DROP_1 = scriptSource(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/**
 * The lock that makes one process at a time the one that fires schedules. Every schedule step
 * is checked against the token in Redis (`ScheduleStore.advance`), so a holder that stalled past
 * its lease cannot act on a stale belief after another process took over.
 */
export function createFiringLock(redis: Redis, prefix: string, ttlMs: number) {
  const keys = scheduleKeys(prefix);
  let token = '';
  return {
    /** Takes or renews the lock; the token while held, else null. */
    async hold(): Promise<string | null> {
      const result = await runScript(redis, TAKE_2, [keys.lock, keys.fence], [token, ttlMs]);
      token = typeof result === 'string' ? result : '';
      return token === '' ? null : token;
    },
    async release(): Promise<void> {
      if (token === '') return;
      await runScript(redis, DROP_1, [keys.lock], [token]);
      token = '';
    },
  };
}

export type FiringLock = ReturnType<typeof createFiringLock>;
