/**
 * The KQL the simulator's advanced hunting understands, and nothing more. Two shapes:
 *
 *   DeviceEvents
 *   | where Timestamp >= datetime(2026-12-01T04:00:00.000Z)
 *   | where ActionType in ("AntivirusScanCompleted", "AntivirusScanCancelled", ...)
 *   | where DeviceId in ("<40 hex>", ...)
 *   | project Timestamp, DeviceId, ActionType, AdditionalFields
 *
 * and the findings query of `verify`: the device ids bound once with `let`, then the outer
 * union (with a source column) of that DeviceEvents pipeline and an AlertEvidence one:
 *
 *   let ids = dynamic(["<40 hex>", ...]);
 *   union withsource=SourceTable
 *   (DeviceEvents | where Timestamp >= datetime(…) | where ActionType in (…)
 *    | where DeviceId in (ids) | project …),
 *   (AlertEvidence | where Timestamp >= datetime(…) | where EntityType == "Machine"
 *    | where DeviceId in (ids) | project …)
 *
 * Anything else is refused with a message naming the part, so a client that drifts from what it
 * documents fails loudly here.
 */
export type HuntingTable = 'DeviceEvents' | 'AlertEvidence';

export interface TableQuery {
  table: HuntingTable;
  sinceMs: number;
  /** DeviceEvents: the action types asked for; AlertEvidence: the one entity type. */
  actionTypes: ReadonlySet<string>;
  entityType: string | null;
  deviceIds: ReadonlySet<string>;
  columns: readonly string[];
}

/** One query: its table pipelines, and the union's source column (null without a union). */
export interface HuntingQuery {
  sourceColumn: string | null;
  tables: readonly TableQuery[];
}

/** The single DeviceEvents shape, as the doctor's check and older clients send it. */
export type ScanEventQuery = TableQuery;

type Parsed<T> = { ok: true; query: T } | { ok: false; message: string };
export type KqlParse = Parsed<ScanEventQuery>;

export const SCAN_ACTION_TYPES: readonly string[] = [
  'AntivirusScanCompleted',
  'AntivirusScanCancelled',
  'AntivirusScanFailed',
  'AntivirusDetection',
];
/** Columns of each table a query may project (the rest of Microsoft's schema is not modelled). */
const COLUMNS: Readonly<Record<HuntingTable, readonly string[]>> = {
  DeviceEvents: [
    'Timestamp',
    'DeviceId',
    'DeviceName',
    'ActionType',
    'FileName',
    'FolderPath',
    'SHA1',
    'SHA256',
    'AdditionalFields',
  ],
  AlertEvidence: [
    'Timestamp',
    'AlertId',
    'Title',
    'Categories',
    'ServiceSource',
    'DetectionSource',
    'EntityType',
    'EvidenceRole',
    'DeviceId',
    'DeviceName',
    'FileName',
    'SHA1',
  ],
};
const ENTITY_TYPES = ['Machine', 'File', 'Process', 'User', 'Ip', 'Url'];
/** Longer queries are refused (Graph documents no number; this keeps clients chunking). */
export const MAX_QUERY_CHARS = 40_000;

const TIME = /^where Timestamp >= datetime\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z)\)$/;
const IN_LIST = /^where (ActionType|DeviceId) in \(((?:"[^"\\]*"\s*,\s*)*"[^"\\]*")\)$/;
const IN_NAME = /^where DeviceId in \(([A-Za-z_]\w*)\)$/;
const ENTITY = /^where EntityType == "([A-Za-z]+)"$/;
const PROJECT = /^project ([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)$/;
const LET_IDS = /^let ([A-Za-z_]\w*) = dynamic\(\[((?:"[^"\\]*"\s*,\s*)*"[^"\\]*")\]\);\s*/;
const UNION =
  /^union withsource=([A-Za-z_]\w*)\s*\(((?:DeviceEvents|AlertEvidence)\s*\|[\s\S]*)\),\s*\(((?:DeviceEvents|AlertEvidence)\s*\|[\s\S]*)\)$/;

function quotedList(text: string): string[] {
  return [...text.matchAll(/"([^"\\]*)"/g)].map((m) => m[1] ?? '');
}

const near = (part: string | undefined): string =>
  `Syntax error near '${(part ?? '').slice(0, 60)}'.`;

function checkIds(ids: string[]): Parsed<ReadonlySet<string>> {
  const bad = ids.find((id) => !/^[0-9a-f]{40}$/.test(id));
  if (bad !== undefined) return { ok: false, message: `'${bad.slice(0, 60)}' is not a DeviceId.` };
  return { ok: true, query: new Set(ids) };
}

/**
 * One table's pipeline: table, time, its filter (ActionType list or EntityType), device ids (a
 * quoted list, or the name bound by `let`), project; every clause exactly once, in this order.
 */
function parsePipeline(text: string, names: ReadonlyMap<string, string[]>): Parsed<TableQuery> {
  const parts = text.split('|').map((p) => p.trim().replace(/\s+/g, ' '));
  const table = parts[0];
  if (table !== 'DeviceEvents' && table !== 'AlertEvidence')
    return { ok: false, message: `Unsupported table '${(table ?? '').slice(0, 40)}'.` };
  if (parts.length !== 5)
    return { ok: false, message: 'Expected exactly: table, 3 where clauses, project.' };
  const time = TIME.exec(parts[1] ?? '');
  const sinceMs = time?.[1] === undefined ? NaN : Date.parse(time[1]);
  if (Number.isNaN(sinceMs)) return { ok: false, message: near(parts[1]) };
  let actionTypes: string[] = [];
  let entityType: string | null = null;
  if (table === 'DeviceEvents') {
    const types = IN_LIST.exec(parts[2] ?? '');
    if (types?.[1] !== 'ActionType' || types[2] === undefined)
      return { ok: false, message: near(parts[2]) };
    actionTypes = quotedList(types[2]);
    const unknownType = actionTypes.find((t) => !SCAN_ACTION_TYPES.includes(t));
    if (unknownType !== undefined)
      return { ok: false, message: `Unexpected ActionType '${unknownType.slice(0, 60)}'.` };
  } else {
    entityType = ENTITY.exec(parts[2] ?? '')?.[1] ?? null;
    if (entityType === null || !ENTITY_TYPES.includes(entityType))
      return { ok: false, message: near(parts[2]) };
  }
  const named = IN_NAME.exec(parts[3] ?? '')?.[1];
  const listed = IN_LIST.exec(parts[3] ?? '');
  let ids: string[];
  if (named !== undefined) {
    const bound = names.get(named);
    if (!bound)
      return { ok: false, message: `Failed to resolve scalar expression named '${named}'.` };
    ids = bound;
  } else if (listed?.[1] === 'DeviceId' && listed[2] !== undefined) {
    ids = quotedList(listed[2]);
  } else {
    return { ok: false, message: near(parts[3]) };
  }
  const deviceIds = checkIds(ids);
  if (!deviceIds.ok) return deviceIds;
  const project = PROJECT.exec(parts[4] ?? '');
  if (!project?.[1]) return { ok: false, message: near(parts[4]) };
  const columns = project[1].split(',').map((c) => c.trim());
  const unknownColumn = columns.find((c) => !COLUMNS[table].includes(c));
  if (unknownColumn !== undefined)
    return { ok: false, message: `Failed to resolve column '${unknownColumn}'.` };
  return {
    ok: true,
    query: {
      table,
      sinceMs,
      actionTypes: new Set(actionTypes),
      entityType,
      deviceIds: deviceIds.query,
      columns,
    },
  };
}

/** Parses the single DeviceEvents shape (the doctor's probe and the original verify query). */
export function parseScanEventQuery(text: string): KqlParse {
  if (text.length > MAX_QUERY_CHARS)
    return { ok: false, message: `Query is longer than ${MAX_QUERY_CHARS} characters.` };
  const parsed = parsePipeline(text, new Map());
  if (parsed.ok && parsed.query.table !== 'DeviceEvents')
    return { ok: false, message: `Unsupported table '${parsed.query.table}'.` };
  return parsed;
}

/** Parses either shape: the single DeviceEvents pipeline, or `let` + `union withsource`. */
export function parseHuntingQuery(text: string): Parsed<HuntingQuery> {
  if (text.length > MAX_QUERY_CHARS)
    return { ok: false, message: `Query is longer than ${MAX_QUERY_CHARS} characters.` };
  const trimmed = text.trim();
  if (!trimmed.startsWith('let ')) {
    const single = parseScanEventQuery(trimmed);
    return single.ok ? { ok: true, query: { sourceColumn: null, tables: [single.query] } } : single;
  }
  const binding = LET_IDS.exec(trimmed);
  if (!binding?.[1] || binding[2] === undefined) return { ok: false, message: near(trimmed) };
  const names = new Map([[binding[1], quotedList(binding[2])]]);
  const union = UNION.exec(trimmed.slice(binding[0].length).trim());
  if (!union?.[1] || union[2] === undefined || union[3] === undefined)
    return { ok: false, message: near(trimmed.slice(binding[0].length)) };
  const tables: TableQuery[] = [];
  for (const pipeline of [union[2], union[3]]) {
    const parsed = parsePipeline(pipeline, names);
    if (!parsed.ok) return parsed;
    tables.push(parsed.query);
  }
  if (tables[0]?.table === tables[1]?.table)
    return { ok: false, message: 'The union names one table twice.' };
  return { ok: true, query: { sourceColumn: union[1], tables } };
}
