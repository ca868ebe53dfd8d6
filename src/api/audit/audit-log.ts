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

/**
 * The audit log: one Redis stream (`${prefix}:audit`), capped near `maxEntries` so it cannot grow
 * without bound (XADD MAXLEN ~). Written by the API for every write and by the token commands.
 */
export function createAuditLog(redis: Redis, prefix: string, maxEntries = 100_000): AuditLog {
  const key = `${prefix}:audit`;
  return {
    async record(entry) {
      const flat = FIELDS.flatMap((field) => [field, String(entry[field])]);
      await redis.xadd(key, 'MAXLEN', '~', maxEntries, '*', ...flat);
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
