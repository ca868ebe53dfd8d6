import { hostname, userInfo } from 'node:os';
import type { Redis } from '../shared/redis.js';
import { createAuditLog, type AuditLog, type AuditOutcome, type AuditSource } from './audit-log.js';

/** Who wrote and from where: the part of an audit entry that belongs to the caller. */
export interface AuditActor {
  who: string;
  source: AuditSource;
  from: string;
  /** The Entra object id of a person signed in to the dashboard (who is then their UPN). */
  oid?: string;
}

/** The person at the keyboard: `user@host`. */
export function cliActor(): AuditActor {
  const host = hostname();
  return { who: `${userInfo().username}@${host}`, source: 'cli', from: host };
}

/** A worker process acting on its own (breaker, retention sweep, reconcile). */
export function workerActor(): AuditActor {
  const host = hostname();
  return { who: `worker:${host}:${String(process.pid)}`, source: 'worker', from: host };
}

/** A schedule firing (the process that fired it is in `from`). */
export function scheduleActor(schedule: string): AuditActor {
  return { who: `schedule:${schedule}`, source: 'schedule', from: hostname() };
}

/** What one write is; target and detail may depend on the result (a created campaign's id). */
export interface AuditWrite<T> {
  action: string;
  target?: string | ((result: T) => string);
  detail?: (result: T) => string;
  /** A result that is itself a failure (a trigger that could not resolve its devices). */
  outcome?: (result: T) => AuditOutcome;
}

/** Where `audited` writes, and how it tells refusals (bad input, wrong state) from failures. */
export interface AuditSink {
  log: AuditLog;
  actor: AuditActor;
  now?: () => number;
  /** True for errors that mean "refused" (a `UsageError` in the CLI); the rest are "failed". */
  isRefusal?: (error: unknown) => boolean;
  /** An entry that could not be written: the write itself still stands (or still failed). */
  onUnrecorded?: (error: unknown) => void;
}

const MAX_DETAIL = 500;

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

/**
 * The one way to write an audit entry outside an HTTP request: records `write` for `actor` with
 * its outcome. Entries are best effort: a Redis error while recording goes to `onUnrecorded` and
 * never turns a done write into a failed one.
 */
export async function recordAudit(
  sink: AuditSink,
  entry: {
    action: string;
    target?: string;
    outcome: AuditOutcome;
    detail?: string;
    status?: number | null;
  },
): Promise<void> {
  try {
    await sink.log.record({
      at: (sink.now ?? Date.now)(),
      ...sink.actor,
      action: entry.action,
      target: entry.target ?? '',
      outcome: entry.outcome,
      status: entry.status ?? null,
      detail: clip(entry.detail ?? ''),
    });
  } catch (error) {
    sink.onUnrecorded?.(error);
  }
}

/**
 * Runs `work` and records it: `ok` with the detail of its result, or `refused`/`failed` with the
 * error's message, which is then thrown on unchanged.
 */
export async function audited<T>(
  sink: AuditSink,
  write: AuditWrite<T>,
  work: () => Promise<T>,
): Promise<T> {
  const fixedTarget = typeof write.target === 'string' ? write.target : '';
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await recordAudit(sink, {
      action: write.action,
      target: fixedTarget,
      outcome: sink.isRefusal?.(error) === true ? 'refused' : 'failed',
      detail: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  await recordAudit(sink, {
    action: write.action,
    target: typeof write.target === 'function' ? write.target(result) : fixedTarget,
    outcome: write.outcome?.(result) ?? 'ok',
    detail: write.detail?.(result) ?? '',
  });
  return result;
}

/** An audit sink on `${prefix}:audit` for `actor`. */
export function auditSink(
  redis: Redis,
  prefix: string,
  actor: AuditActor,
  options: Omit<AuditSink, 'log' | 'actor'> = {},
): AuditSink {
  return { log: createAuditLog(redis, prefix), actor, ...options };
}
