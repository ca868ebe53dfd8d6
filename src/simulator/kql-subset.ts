/**
 * The KQL the simulator's advanced hunting understands, and nothing more: one table, `where`
 * clauses on time, action type and device id, and a `project`. Anything else is refused with a
 * message naming the part, so a client that drifts from what it documents fails loudly here.
 *
 *   DeviceEvents
 *   | where Timestamp >= datetime(2026-12-01T04:00:00.000Z)
 *   | where ActionType in ("AntivirusScanCompleted", "AntivirusScanCancelled", ...)
 *   | where DeviceId in ("<40 hex>", ...)
 *   | project Timestamp, DeviceId, ActionType, AdditionalFields
 */
export interface ScanEventQuery {
  sinceMs: number;
  actionTypes: ReadonlySet<string>;
  deviceIds: ReadonlySet<string>;
  columns: readonly string[];
}

export type KqlParse = { ok: true; query: ScanEventQuery } | { ok: false; message: string };

export const SCAN_ACTION_TYPES: readonly string[] = [
  'AntivirusScanCompleted',
  'AntivirusScanCancelled',
  'AntivirusScanFailed',
];
const COLUMNS = ['Timestamp', 'DeviceId', 'DeviceName', 'ActionType', 'AdditionalFields'];
/** Longer queries are refused (Graph documents no number; this keeps clients chunking). */
export const MAX_QUERY_CHARS = 40_000;

const TIME = /^where Timestamp >= datetime\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z)\)$/;
const IN_LIST = /^where (ActionType|DeviceId) in \(((?:"[^"\\]*"\s*,\s*)*"[^"\\]*")\)$/;
const PROJECT = /^project ([A-Za-z]+(?:\s*,\s*[A-Za-z]+)*)$/;

function quotedList(text: string): string[] {
  return [...text.matchAll(/"([^"\\]*)"/g)].map((m) => m[1] ?? '');
}

/** Parses one query of the subset; every clause exactly once, in this order. */
export function parseScanEventQuery(text: string): KqlParse {
  if (text.length > MAX_QUERY_CHARS)
    return { ok: false, message: `Query is longer than ${MAX_QUERY_CHARS} characters.` };
  const parts = text.split('|').map((p) => p.trim().replace(/\s+/g, ' '));
  if (parts[0] !== 'DeviceEvents')
    return { ok: false, message: `Unsupported table '${(parts[0] ?? '').slice(0, 40)}'.` };
  if (parts.length !== 5)
    return { ok: false, message: 'Expected exactly: table, 3 where clauses, project.' };
  const time = TIME.exec(parts[1] ?? '');
  const sinceMs = time?.[1] === undefined ? NaN : Date.parse(time[1]);
  if (Number.isNaN(sinceMs))
    return { ok: false, message: `Syntax error near '${(parts[1] ?? '').slice(0, 60)}'.` };
  const types = IN_LIST.exec(parts[2] ?? '');
  if (types?.[1] !== 'ActionType' || types[2] === undefined)
    return { ok: false, message: `Syntax error near '${(parts[2] ?? '').slice(0, 60)}'.` };
  const actionTypes = quotedList(types[2]);
  const unknownType = actionTypes.find((t) => !SCAN_ACTION_TYPES.includes(t));
  if (unknownType !== undefined)
    return { ok: false, message: `Unexpected ActionType '${unknownType.slice(0, 60)}'.` };
  const devices = IN_LIST.exec(parts[3] ?? '');
  if (devices?.[1] !== 'DeviceId' || devices[2] === undefined)
    return { ok: false, message: `Syntax error near '${(parts[3] ?? '').slice(0, 60)}'.` };
  const deviceIds = quotedList(devices[2]);
  const badId = deviceIds.find((id) => !/^[0-9a-f]{40}$/.test(id));
  if (badId !== undefined)
    return { ok: false, message: `'${badId.slice(0, 60)}' is not a DeviceId.` };
  const project = PROJECT.exec(parts[4] ?? '');
  if (!project?.[1])
    return { ok: false, message: `Syntax error near '${(parts[4] ?? '').slice(0, 60)}'.` };
  const columns = project[1].split(',').map((c) => c.trim());
  const unknownColumn = columns.find((c) => !COLUMNS.includes(c));
  if (unknownColumn !== undefined)
    return { ok: false, message: `Failed to resolve column '${unknownColumn}'.` };
  return {
    ok: true,
    query: { sinceMs, actionTypes: new Set(actionTypes), deviceIds: new Set(deviceIds), columns },
  };
}
