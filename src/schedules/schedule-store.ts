import type { Redis } from '../shared/redis.js';
import { luaScript } from '../lua/lua-scripts.js';
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

export type AdvanceResult = 'done' | 'moved' | 'not-holder' | 'gone';

export interface ScheduleStore {
  /** Creates or replaces the definition; a changed plan restarts counting from `now`. */
  put(spec: ScheduleSpec, now: number): Promise<'created' | 'updated' | 'unchanged'>;
  get(name: string): Promise<Schedule | null>;
  list(): Promise<Schedule[]>;
  remove(name: string): Promise<boolean>;
  /** Pause with an optional note; resuming starts from `now` (no fire for the paused span). */
  setPaused(name: string, paused: boolean, note: string | null, now: number): Promise<boolean>;
  /** Moves the state (fenced, see schedule-advance-4.lua) and appends `history` in the same atomic step. */
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
      const result = await luaScript('schedule-advance-4').run(
        redis,
        [keys.lock, keys.schedule(name), keys.history(name), keys.fires],
        [fence.token, String(fence.version), HISTORY_LIMIT, history.length, ...entries, ...pairs],
      );
      return result === 1 ? 'done' : result === 0 ? 'moved' : result === -1 ? 'not-holder' : 'gone';
    },
    async completeFire(name, pending, record) {
      const result = await luaScript('schedule-complete-3').run(
        redis,
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
      await luaScript('schedule-record-run-1').run(redis, [keys.schedule(name)], [campaignId]);
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
