import type { Redis } from '../shared/redis.js';
import { runScript, scriptSource } from '../lua/run-script.js';
import {
  FIRE_OUTCOMES,
  type FireOutcome,
  type FireRecord,
  type PendingFire,
  type Schedule,
  type ScheduleSpec,
  type ScheduleState,
} from './schedule.js';
import { scheduleKeys } from './schedule-keys.js';

/** Run-history entries kept per schedule (newest first). */
export const HISTORY_LIMIT = 1_000;

/**
 * Changes a schedule's state only for the holder of the firing lock (KEYS[1] holds its fencing
 * token) and only from the version it read (every change bumps it): a stale holder (stalled,
 * then replaced), a second step in the same process or a racing `resume`/`apply` makes the step
 * fail instead of handling one planned time twice. The history entries of the step (missed,
 * skipped) are written in the same call, so none is lost or written twice.
 * KEYS[1] lock, KEYS[2] schedule hash, KEYS[3] history list, KEYS[4] fires-by-outcome hash.
 * ARGV[1] token, ARGV[2] expected version, ARGV[3] history limit, ARGV[4] number of history
 * entries n, then n (outcome, entry JSON) pairs, then field/value pairs.
 * Returns 1 done, 0 changed meanwhile, -1 not the holder, -2 no such schedule.
 */
const ADVANCE_4 = scriptSource(`
local rcall = redis.call
if rcall('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if rcall('EXISTS', KEYS[2]) == 0 then return -2 end
if (rcall('HGET', KEYS[2], 'version') or '0') ~= ARGV[2] then return 0 end
rcall('HINCRBY', KEYS[2], 'version', 1)
local entries = tonumber(ARGV[4])
local first = 5 + 2 * entries
for i = first, #ARGV, 2 do rcall('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
for i = 5, first - 1, 2 do
  rcall('LPUSH', KEYS[3], ARGV[i + 1])
  rcall('HINCRBY', KEYS[4], ARGV[i], 1)
end
if entries > 0 then rcall('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1) end
return 1`);

/**
 * Records the outcome of a claimed run and clears the claim, once: only while the schedule's
 * `pending` field still holds exactly ARGV[1] (a second process completing the same claim, or a
 * stale holder waking up after another completed it, changes nothing). A started run is counted
 * and remembered as the last one.
 * KEYS[1] schedule hash, KEYS[2] history list, KEYS[3] fires-by-outcome hash. ARGV[1] pending
 * JSON, ARGV[2] outcome, ARGV[3] entry JSON, ARGV[4] campaign id ('' for none), ARGV[5] history
 * limit. Returns 1 recorded, 0 not (already completed, or the schedule was removed).
 */
const COMPLETE_3 = scriptSource(`
local rcall = redis.call
if rcall('HGET', KEYS[1], 'pending') ~= ARGV[1] then return 0 end
rcall('HSET', KEYS[1], 'pending', '')
rcall('HINCRBY', KEYS[1], 'version', 1)
if ARGV[2] == 'started' and ARGV[4] ~= '' then
  rcall('HINCRBY', KEYS[1], 'runs', 1)
  rcall('HSET', KEYS[1], 'lastCampaignId', ARGV[4])
end
rcall('LPUSH', KEYS[2], ARGV[3])
rcall('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
rcall('HINCRBY', KEYS[3], ARGV[2], 1)
return 1`);

/** Counts a run, unless the schedule was removed meanwhile (it must not come back half). */
const RECORD_RUN_1 = scriptSource(`
if redis.call('HEXISTS', KEYS[1], 'spec') == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'runs', 1)
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'lastCampaignId', ARGV[1])
return 1`);

export type AdvanceResult = 'done' | 'moved' | 'not-holder' | 'gone';

export interface ScheduleStore {
  /** Creates or replaces the definition; a changed plan restarts counting from `now`. */
  put(spec: ScheduleSpec, now: number): Promise<'created' | 'updated' | 'unchanged'>;
  get(name: string): Promise<Schedule | null>;
  list(): Promise<Schedule[]>;
  remove(name: string): Promise<boolean>;
  /** Pause with an optional note; resuming starts from `now` (no fire for the paused span). */
  setPaused(name: string, paused: boolean, note: string | null, now: number): Promise<boolean>;
  /** Moves the state (fenced, see ADVANCE_4) and appends `history` in the same atomic step. */
  advance(
    name: string,
    fence: { token: string; version: number },
    fields: Partial<Record<keyof ScheduleState, string>>,
    history?: readonly FireRecord[],
  ): Promise<AdvanceResult>;
  /** Records a claimed run's outcome and clears the claim; false when it was already recorded. */
  completeFire(name: string, pending: PendingFire, record: FireRecord): Promise<boolean>;
  /** Counts a run started outside the plan (`schedule trigger`) and remembers its campaign. */
  recordRun(name: string, campaignId: string): Promise<void>;
  appendHistory(name: string, record: FireRecord): Promise<void>;
  history(name: string, limit?: number): Promise<FireRecord[]>;
  fireCounts(): Promise<Record<FireOutcome, number>>;
}

export function createScheduleStore(redis: Redis, prefix: string): ScheduleStore {
  const keys = scheduleKeys(prefix);

  const decode = (fields: Record<string, string>): Schedule | null => {
    const spec = fields['spec'];
    if (spec === undefined) return null;
    const number = (key: string) => Number(fields[key] ?? 0);
    const optional = (key: string) => (fields[key] ? Number(fields[key]) : null);
    return {
      spec: JSON.parse(spec) as ScheduleSpec,
      state: {
        paused: fields['paused'] === '1',
        note: fields['note'] || null,
        createdAt: number('createdAt'),
        updatedAt: number('updatedAt'),
        cursor: number('cursor'),
        runs: number('runs'),
        lastCampaignId: fields['lastCampaignId'] || null,
        buffered: optional('buffered'),
        pending: fields['pending'] ? (JSON.parse(fields['pending']) as PendingFire) : null,
        version: number('version'),
      },
    };
  };

  const store: ScheduleStore = {
    async put(spec, now) {
      const key = keys.schedule(spec.name);
      const before = await store.get(spec.name);
      const json = JSON.stringify(spec);
      if (before && JSON.stringify(before.spec) === json) return 'unchanged';
      const planChanged =
        !before ||
        before.spec.cron !== spec.cron ||
        before.spec.tz !== spec.tz ||
        before.spec.startAt !== spec.startAt;
      await redis
        .multi()
        .hset(key, {
          spec: json,
          updatedAt: String(now),
          ...(before ? {} : { createdAt: String(now), runs: '0', paused: '0' }),
          ...(planChanged ? { cursor: String(Math.max(now, before?.state.cursor ?? 0)) } : {}),
        })
        .hincrby(key, 'version', 1)
        .sadd(keys.names, spec.name)
        .exec();
      return before ? 'updated' : 'created';
    },
    async get(name) {
      return decode(await redis.hgetall(keys.schedule(name)));
    },
    async list() {
      const names = (await redis.smembers(keys.names)).sort();
      const found = await Promise.all(names.map((name) => store.get(name)));
      return found.filter((s): s is Schedule => s !== null);
    },
    async remove(name) {
      const [, [, removed] = []] =
        (await redis
          .multi()
          .del(keys.schedule(name), keys.history(name))
          .srem(keys.names, name)
          .exec()) ?? [];
      return removed === 1;
    },
    async setPaused(name, paused, note, now) {
      const key = keys.schedule(name);
      if ((await redis.exists(key)) === 0) return false;
      await redis
        .multi()
        .hset(key, {
          paused: paused ? '1' : '0',
          note: paused ? (note ?? '') : '',
          updatedAt: String(now),
          ...(paused ? {} : { cursor: String(now), buffered: '' }),
        })
        .hincrby(key, 'version', 1)
        .exec();
      return true;
    },
    async advance(name, fence, fields, history = []) {
      const pairs = Object.entries(fields).flat();
      const entries = history.flatMap((r) => [r.outcome, JSON.stringify(r)]);
      const result = await runScript(
        redis,
        ADVANCE_4,
        [keys.lock, keys.schedule(name), keys.history(name), keys.fires],
        [fence.token, String(fence.version), HISTORY_LIMIT, history.length, ...entries, ...pairs],
      );
      return result === 1 ? 'done' : result === 0 ? 'moved' : result === -1 ? 'not-holder' : 'gone';
    },
    async completeFire(name, pending, record) {
      const result = await runScript(
        redis,
        COMPLETE_3,
        [keys.schedule(name), keys.history(name), keys.fires],
        [
          encodePending(pending),
          record.outcome,
          JSON.stringify(record),
          record.outcome === 'started' ? (record.campaignId ?? '') : '',
          HISTORY_LIMIT,
        ],
      );
      return result === 1;
    },
    async recordRun(name, campaignId) {
      await runScript(redis, RECORD_RUN_1, [keys.schedule(name)], [campaignId]);
    },
    async appendHistory(name, record) {
      await redis
        .multi()
        .lpush(keys.history(name), JSON.stringify(record))
        .ltrim(keys.history(name), 0, HISTORY_LIMIT - 1)
        .hincrby(keys.fires, record.outcome, 1)
        .exec();
    },
    async history(name, limit = 50) {
      const items = await redis.lrange(keys.history(name), 0, Math.max(0, limit - 1));
      return items.map((item) => JSON.parse(item) as FireRecord);
    },
    async fireCounts() {
      const counts = await redis.hgetall(keys.fires);
      return Object.fromEntries(
        FIRE_OUTCOMES.map((outcome) => [outcome, Number(counts[outcome] ?? 0)]),
      ) as Record<FireOutcome, number>;
    },
  };
  return store;
}

/** The `pending` field's value; `completeFire` compares it byte for byte. */
export function encodePending(pending: PendingFire): string {
  return JSON.stringify({
    planned: pending.planned,
    actual: pending.actual,
    campaignId: pending.campaignId,
  });
}
