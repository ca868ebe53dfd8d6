import { appendFile, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from '../shared/redis.js';
import { auditStreamKey, decodeAuditRow, type AuditEntry } from './audit-log.js';

export interface AuditTrimSettings {
  /** Entries older than this are exported and trimmed. */
  maxAgeMs: number;
  /** Beyond this many entries, the oldest are exported and trimmed whatever their age. */
  maxEntries: number;
  /** Where `audit-YYYY-MM-DD.ndjson` files are appended (created 0700, files 0600). */
  exportDir: string;
}

const BATCH = 1_000;

/** The stream id just after `id`: XTRIM MINID keeps it and everything newer. */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms ?? '0'}-${String(Number(seq ?? '0') + 1)}`;
}

async function appendEntries(dir: string, entries: readonly AuditEntry[]): Promise<void> {
  const byDay = new Map<string, string[]>();
  for (const entry of entries) {
    const day = new Date(entry.at).toISOString().slice(0, 10);
    const line = `${JSON.stringify({ ...entry, at: new Date(entry.at).toISOString() })}\n`;
    byDay.set(day, [...(byDay.get(day) ?? []), line]);
  }
  for (const [day, lines] of byDay) {
    const path = join(dir, `audit-${day}.ndjson`);
    await appendFile(path, lines.join(''), { mode: 0o600 });
    // Written to disk before the stream loses them.
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/**
 * Moves the audit stream's oldest entries, those past `maxAgeMs` or beyond `maxEntries`, to
 * NDJSON files (one per UTC day, appended) and only then trims them from Redis, so bounding the
 * stream never loses an entry. One process at a time (a lock with a lease); returns how many
 * entries it moved.
 */
export async function trimAudit(
  redis: Redis,
  prefix: string,
  settings: AuditTrimSettings,
  now: number,
): Promise<number> {
  const stream = auditStreamKey(prefix);
  const lock = `${prefix}:audit:trim-lock`;
  if ((await redis.set(lock, String(now), 'PX', 60_000, 'NX')) !== 'OK') return 0;
  try {
    await mkdir(settings.exportDir, { recursive: true, mode: 0o700 });
    const cutoff = now - settings.maxAgeMs;
    let excess = Math.max(0, (await redis.xlen(stream)) - settings.maxEntries);
    let moved = 0;
    for (;;) {
      const rows = await redis.xrange(stream, '-', '+', 'COUNT', BATCH);
      const take: AuditEntry[] = [];
      for (const row of rows) {
        const entry = decodeAuditRow(row);
        if (excess <= take.length && Number(entry.id.split('-')[0]) >= cutoff) break;
        take.push(entry);
      }
      const last = take.at(-1);
      if (!last) return moved;
      await appendEntries(settings.exportDir, take);
      await redis.xtrim(stream, 'MINID', nextId(last.id));
      moved += take.length;
      excess = Math.max(0, excess - take.length);
      if (take.length < rows.length || rows.length < BATCH) return moved;
    }
  } finally {
    await redis.del(lock);
  }
}
