import type { Redis } from '../shared/redis.js';

/** Where a write came from. */
export const AUDIT_SOURCES = ['cli', 'api', 'dashboard', 'schedule', 'worker'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

/** How it ended: done, refused (bad input, not allowed, wrong state) or failed (an error). */
export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One write, as the audit log keeps it. */
export interface AuditEntry {
  /** Redis stream id: time-ordered and unique, a cursor for paging. */
  id: string;
  /** ms since the epoch. */
  at: number;
  /**
   * `token:<name>/<id>` (API), `user@host` (CLI), `dashboard:<user>` (dashboard),
   * `schedule:<name>` (a schedule firing), `worker:<host>:<pid>` (a worker's own action).
   */
  who: string;
  /** `campaign.create`, `campaign.cancel`, `token.revoke`, `tenant.block`, … */
  action: string;
  /** The campaign, token or subscription acted on; empty when none (yet). */
  target: string;
  /** The client's address (API, dashboard) or the host name (CLI, schedules, workers). */
  from: string;
  /** HTTP status of the answer; null for writes that were no HTTP request. */
  status: number | null;
  /** Short free text: what was asked, what happened, or why it was refused or failed. */
  detail: string;
  source: AuditSource;
  outcome: AuditOutcome;
  /** Entra object id of the person who signed in to the dashboard; absent for everyone else. */
  oid?: string;
}

export type AuditInput = Omit<AuditEntry, 'id' | 'status'> & { status?: number | null };

// New fields go last: CSV exports keep their first columns.
const FIELDS = [
  'at',
  'who',
  'action',
  'target',
  'from',
  'status',
  'detail',
  'source',
  'outcome',
  'oid',
] as const;

/** 2xx/3xx ok, 4xx refused, anything else failed. */
export function outcomeOfStatus(status: number): AuditOutcome {
  if (status >= 200 && status < 400) return 'ok';
  return status >= 400 && status < 500 ? 'refused' : 'failed';
}

function sourceOf(value: string | undefined, from: string): AuditSource {
  const known = AUDIT_SOURCES.find((s) => s === value);
  // Entries written before `source` existed came from the API or, with `from: cli`, the CLI.
  return known ?? (from === 'cli' ? 'cli' : 'api');
}

/** Stream entries are flat string lists: field, value, field, value… */
function decode(id: string, flat: readonly string[]): AuditEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i] ?? '', flat[i + 1] ?? '');
  // Entries written before `outcome` existed: status 0 marked a CLI write, which had succeeded.
  const raw = Number(map.get('status') || 0);
  const status = raw > 0 ? raw : null;
  const from = map.get('from') ?? '';
  return {
    id,
    at: Number(map.get('at') ?? 0),
    who: map.get('who') ?? '',
    action: map.get('action') ?? '',
    target: map.get('target') ?? '',
    from,
    status,
    detail: map.get('detail') ?? '',
    source: sourceOf(map.get('source'), from),
    outcome:
      AUDIT_OUTCOMES.find((o) => o === map.get('outcome')) ??
      (status === null ? 'ok' : outcomeOfStatus(status)),
    ...(map.get('oid') ? { oid: map.get('oid') } : {}),
  };
}

export interface AuditLog {
  record(entry: AuditInput): Promise<void>;
  /** Newest first; `before` is the id of the last entry of the previous page. */
  list(options?: { limit?: number; before?: string | null }): Promise<AuditEntry[]>;
  /** Oldest first, every entry, for export. */
  iterate(): AsyncIterable<AuditEntry>;
}

/** The audit stream's key; the denial collapser and the trimmer write and trim the same stream. */
export const auditStreamKey = (prefix: string) => `${prefix}:audit`;

/** The stream's fields of one entry, in order. */
export const auditFields = (entry: AuditInput): string[] => {
  const full = { ...entry, status: entry.status ?? '', oid: entry.oid ?? '' };
  return FIELDS.flatMap((field) => [field, String(full[field])]);
};

/**
 * The audit log: one Redis stream (`${prefix}:audit`). `trimAudit` (audit-trim.ts) exports old
 * entries to files before it trims them; the cap here (XADD MAXLEN ~) is only a safety net for
 * memory when no API process runs the trimmer, set well above what the trimmer keeps.
 * Written through `record-audit.ts` by every path that writes: the API, the CLI, the dashboard,
 * schedules firing and workers' own actions.
 */
export function createAuditLog(redis: Redis, prefix: string, maxEntries = 200_000): AuditLog {
  const key = auditStreamKey(prefix);
  return {
    async record(entry) {
      await redis.xadd(key, 'MAXLEN', '~', maxEntries, '*', ...auditFields(entry));
    },
    async list(options = {}) {
      const limit = Math.min(Math.max(options.limit ?? 100, 1), 1_000);
      const end = options.before ? `(${options.before}` : '+';
      const rows = await redis.xrevrange(key, end, '-', 'COUNT', limit);
      return rows.map(([id, flat]) => decode(id, flat));
    },
    async *iterate() {
      let start = '-';
      for (;;) {
        const rows = await redis.xrange(key, start, '+', 'COUNT', 1_000);
        for (const [id, flat] of rows) yield decode(id, flat);
        const last = rows.at(-1);
        if (!last || rows.length < 1_000) return;
        start = `(${last[0]}`;
      }
    },
  };
}

export const AUDIT_COLUMNS = ['id', ...FIELDS] as const;

/** Decodes one XRANGE row (the trimmer exports what it reads). */
export const decodeAuditRow = ([id, flat]: [string, string[]]): AuditEntry => decode(id, flat);
