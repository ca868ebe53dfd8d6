import type { Redis } from '../../shared/redis.js';

/** One write, as the audit log keeps it. */
export interface AuditEntry {
  /** Redis stream id: time-ordered and unique, a cursor for paging. */
  id: string;
  /** ms since the epoch. */
  at: number;
  /** The API token's name (`token:<name>`) or `user@host` for the CLI. */
  who: string;
  /** `campaign.create`, `campaign.cancel`, `token.revoke`, … */
  action: string;
  /** The campaign, token or subscription acted on; empty when none (yet). */
  target: string;
  /** The client's address, or `cli`. */
  from: string;
  /** HTTP status of the answer (0 for CLI writes). */
  status: number;
  /** Short free text: what was asked, what happened. */
  detail: string;
}

export type AuditInput = Omit<AuditEntry, 'id'>;

const FIELDS = ['at', 'who', 'action', 'target', 'from', 'status', 'detail'] as const;

/** Stream entries are flat string lists: field, value, field, value… */
function decode(id: string, flat: readonly string[]): AuditEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i] ?? '', flat[i + 1] ?? '');
  return {
    id,
    at: Number(map.get('at') ?? 0),
    who: map.get('who') ?? '',
    action: map.get('action') ?? '',
    target: map.get('target') ?? '',
    from: map.get('from') ?? '',
    status: Number(map.get('status') ?? 0),
    detail: map.get('detail') ?? '',
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
export const auditFields = (entry: AuditInput): string[] =>
  FIELDS.flatMap((field) => [field, String(entry[field])]);

/**
 * The audit log: one Redis stream (`${prefix}:audit`). `trimAudit` (audit-trim.ts) exports old
 * entries to files before it trims them; the cap here (XADD MAXLEN ~) is only a safety net for
 * memory when no API process runs the trimmer, set well above what the trimmer keeps.
 * Written by the API for every write and by the token commands.
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
