import { createHash } from 'node:crypto';
import type { Redis } from '../shared/redis.js';
import { auditFields, auditStreamKey, type AuditSource } from './audit-log.js';

/** A refused request as the collapser groups it: same who, action and status, one entry. */
export interface Denial {
  at: number;
  /**
   * `token:<name>`, `dashboard:<upn>` or, before anyone is known, `address:<ip>`: the group, so
   * one address's flood is counted apart from another's.
   */
  who: string;
  action: string;
  target: string;
  from: string;
  status: number;
  /** Why it was refused (the problem's detail, shortened). */
  reason: string;
  /** The Entra object id of a person refused at the dashboard's sign-in, when the token said. */
  oid?: string;
}

/** A group of denials that reached the alert threshold inside one window. */
export interface DenialFlood {
  who: string;
  action: string;
  status: number;
  from: string;
  count: number;
  since: number;
}

export interface DenialRecorder {
  record(denial: Denial): Promise<void>;
  /** Denials counted so far by status (every process), for `fleetscan_api_denials_total`. */
  totals(): Promise<Record<string, number>>;
}

export interface DenialSettings {
  /** Denials of one group inside this window share one audit entry. */
  windowMs: number;
  /** A group reaching this count raises `onFlood` (once per window). */
  alertAt: number;
  /**
   * Who refused: `api` (default) or `dashboard` (its sign-in). Each source keeps its own totals,
   * so `fleetscan_api_denials_total` counts the API's refusals only.
   */
  source?: AuditSource;
}

/**
 * Collapses refused requests (401, 403, 429 and other 4xx) into counted audit entries: the first
 * of a group (who, action, status) inside `windowMs` is written as usual; every later one
 * replaces that entry by a newer one carrying the count (XADD, then XDEL of the previous one),
 * so a flood of refusals occupies one entry per group and window instead of pushing real entries
 * out. No script, so it runs on a Redis Cluster, whose slots the stream and the group keys do
 * not share; SET … GET (Redis ≥ 6.2) makes the replacement safe between processes.
 */
export function createDenialRecorder(
  redis: Redis,
  prefix: string,
  settings: DenialSettings,
  onFlood: (flood: DenialFlood) => Promise<void>,
): DenialRecorder {
  const stream = auditStreamKey(prefix);
  const source = settings.source ?? 'api';
  const totalsKey = `${prefix}:audit:denial-totals${source === 'api' ? '' : `:${source}`}`;
  const groupKey = (d: Denial) =>
    `${prefix}:audit:denial:${createHash('sha256')
      .update(`${d.who}\n${d.action}\n${String(d.status)}`)
      .digest('hex')
      .slice(0, 32)}`;
  const write = async (denial: Denial) => {
    const key = groupKey(denial);
    const [[, countReply], [, firstReply]] = (await redis
      .multi()
      .hincrby(key, 'count', 1)
      .hsetnx(key, 'first', String(denial.at))
      .hincrby(totalsKey, String(denial.status), 1)
      .exec()) as [[null, number], [null, number], ...unknown[]];
    const count = countReply;
    if (firstReply === 1) await redis.pexpire(key, settings.windowMs);
    const since = firstReply === 1 ? denial.at : Number(await redis.hget(key, 'first'));
    const detail =
      count === 1
        ? `denied: ${denial.reason}`
        : `denied ×${String(count)} since ${new Date(since).toISOString()}: ${denial.reason}`;
    const id = await redis.xadd(
      stream,
      '*',
      ...auditFields({
        at: denial.at,
        who: denial.who,
        action: denial.action,
        target: denial.target,
        from: denial.from,
        status: denial.status,
        detail: detail.slice(0, 300),
        source,
        outcome: 'refused',
        ...(denial.oid ? { oid: denial.oid } : {}),
      }),
    );
    // SET … GET hands each replaced id to exactly one writer, so none is left behind.
    const previous = await redis.set(`${key}:entry`, id ?? '', 'PX', settings.windowMs, 'GET');
    if (previous) await redis.xdel(stream, previous);
    if (count === settings.alertAt) {
      await onFlood({
        who: denial.who,
        action: denial.action,
        status: denial.status,
        from: denial.from,
        count,
        since,
      });
    }
  };
  // Refusals of one group in this process one after the other: the newest entry then carries
  // the highest count (other processes can still interleave; the entries stay one per group).
  const chains = new Map<string, Promise<void>>();
  return {
    async record(denial) {
      const key = groupKey(denial);
      const run = (chains.get(key) ?? Promise.resolve()).then(() => write(denial));
      const settled = run.catch(() => undefined);
      chains.set(key, settled);
      void settled.then(() => {
        if (chains.get(key) === settled) chains.delete(key);
      });
      await run;
    },
    async totals() {
      const all = await redis.hgetall(totalsKey);
      return Object.fromEntries(Object.entries(all).map(([status, n]) => [status, Number(n)]));
    },
  };
}
