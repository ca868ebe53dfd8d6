import { FILE_EVENT_COLUMNS, type FileEventColumn, type FileEventRow } from './file-events.js';
import { MAX_QUERY_CHARS } from './kql-subset.js';

/**
 * The KQL over `DeviceFileEvents` the simulator understands: the table, any number of `where`
 * clauses with one condition each, then at most one `project` or `distinct`. Anything else is
 * refused with a message naming the part, as advanced hunting refuses what it cannot parse.
 *
 *   DeviceFileEvents
 *   | where Timestamp > ago(7d)
 *   | where SHA256 == "<64 hex>"            (also =~, in (...), in~ (...); SHA1, FileName, ...)
 *   | distinct DeviceId, DeviceName         (or: project DeviceId, FileName)
 */
export interface FileEventQuery {
  /** Rows at or after this time (ms) only; `-Infinity` without a time clause. */
  sinceMs: number;
  matches(row: FileEventRow): boolean;
  columns: readonly FileEventColumn[];
  distinct: boolean;
}

export type FileQueryParse = { ok: true; query: FileEventQuery } | { ok: false; message: string };

const AGO = /^where Timestamp >=? ago\((\d{1,4})(d|h|m|s)\)$/;
const SINCE = /^where Timestamp >=? datetime\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z)\)$/;
const EQUALS = /^where ([A-Za-z0-9]+) (==|=~) "([^"\\]*)"$/;
const IN_LIST = /^where ([A-Za-z0-9]+) (in~?) \(((?:"[^"\\]*"\s*,\s*)*"[^"\\]*")\)$/;
const COLUMN_LIST = /^(project|distinct) ([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
};

function isColumn(name: string): name is FileEventColumn {
  return (FILE_EVENT_COLUMNS as readonly string[]).includes(name);
}

function near(part: string): string {
  return `Syntax error near '${part.slice(0, 60)}'.`;
}

/** Parses a `DeviceFileEvents` query of the subset; `nowMs` resolves `ago()`. */
export function parseFileEventQuery(text: string, nowMs: number): FileQueryParse {
  if (text.length > MAX_QUERY_CHARS)
    return { ok: false, message: `Query is longer than ${String(MAX_QUERY_CHARS)} characters.` };
  const parts = text.split('|').map((p) => p.trim().replace(/\s+/g, ' '));
  if (parts[0] !== 'DeviceFileEvents')
    return { ok: false, message: `Unsupported table '${(parts[0] ?? '').slice(0, 40)}'.` };
  let sinceMs = -Infinity;
  const tests: ((row: FileEventRow) => boolean)[] = [];
  let columns: readonly FileEventColumn[] = FILE_EVENT_COLUMNS;
  let distinct = false;
  for (const [index, part] of parts.slice(1).entries()) {
    const ago = AGO.exec(part);
    const since = SINCE.exec(part);
    const equals = EQUALS.exec(part);
    const list = IN_LIST.exec(part);
    const shape = COLUMN_LIST.exec(part);
    if (ago?.[1] !== undefined && ago[2] !== undefined) {
      sinceMs = Math.max(sinceMs, nowMs - Number(ago[1]) * (UNIT_MS[ago[2]] ?? 0));
    } else if (since?.[1] !== undefined) {
      sinceMs = Math.max(sinceMs, Date.parse(since[1]));
    } else if (equals?.[1] !== undefined && equals[3] !== undefined) {
      const [, column, op, value] = equals;
      if (!isColumn(column) || column === 'Timestamp')
        return { ok: false, message: `Failed to resolve column '${column}'.` };
      const fold = op === '=~';
      tests.push((row) => same(row[column], value, fold));
    } else if (list?.[1] !== undefined && list[3] !== undefined) {
      const [, column, op, items] = list;
      if (!isColumn(column) || column === 'Timestamp')
        return { ok: false, message: `Failed to resolve column '${column}'.` };
      const values = [...items.matchAll(/"([^"\\]*)"/g)].map((m) => m[1] ?? '');
      const fold = op === 'in~';
      tests.push((row) => values.some((v) => same(row[column], v, fold)));
    } else if (shape?.[1] !== undefined && shape[2] !== undefined) {
      if (index !== parts.length - 2)
        return { ok: false, message: `'${shape[1]}' must be the last operator of this subset.` };
      const names = shape[2].split(',').map((c) => c.trim());
      const unknown = names.find((c) => !isColumn(c));
      if (unknown !== undefined)
        return { ok: false, message: `Failed to resolve column '${unknown}'.` };
      columns = names.filter(isColumn);
      distinct = shape[1] === 'distinct';
    } else {
      return { ok: false, message: near(part) };
    }
  }
  return {
    ok: true,
    query: {
      sinceMs,
      matches: (row) => row.atMs >= sinceMs && tests.every((test) => test(row)),
      columns,
      distinct,
    },
  };
}

function same(value: string, wanted: string, fold: boolean): boolean {
  return fold ? value.toLowerCase() === wanted.toLowerCase() : value === wanted;
}

/** The answer's rows: the matches' columns, de-duplicated for `distinct`. */
export function fileEventResults(
  rows: readonly FileEventRow[],
  query: FileEventQuery,
): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (!query.matches(row)) continue;
    const picked = Object.fromEntries(query.columns.map((c) => [c, row[c]]));
    if (query.distinct) {
      const key = JSON.stringify(picked);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(picked);
  }
  return out;
}
