import type { Campaign, DeviceRecord, DeviceState } from '../campaigns/campaign.js';
import { DEVICE_STATES } from '../campaigns/campaign.js';
import { EXPORT_COLUMNS, toExportRow } from '../campaigns/export-devices.js';

/**
 * One archive is one gzip NDJSON file, `<campaignId>.ndjson.gz`:
 *   line 1      header  {"fleetscanArchive":1,"campaign":{…Campaign…},"archivedAt":…,"lifecycle":{…}}
 *   lines 2..n  one device each: the export row (`toExportRow`, same columns in the same order),
 *               then the rest of the stored record (proof fields such as `actionCreatedAt`)
 *   last line   trailer {"fleetscanArchiveEnd":1,"devices":N,"sha256":"…"}
 * The sha256 covers the device lines exactly as written (each with its `\n`), so a reader can
 * tell a complete archive from a cut or altered one. `zcat c-….ndjson.gz | sed 1d | jq` reads it.
 */
export const ARCHIVE_VERSION = 1;

export interface ArchiveHeader {
  fleetscanArchive: typeof ARCHIVE_VERSION;
  campaign: Campaign;
  archivedAt: number;
  /**
   * The campaign's lifecycle hash as it was (`…:campaign:<id>:lifecycle`: tracking, verify,
   * kill switch and intake skip counts), which `report` needs once Redis no longer has it.
   * Absent in archives written before it was kept: read as empty.
   */
  lifecycle?: Record<string, string>;
}

export interface ArchiveTrailer {
  fleetscanArchiveEnd: typeof ARCHIVE_VERSION;
  devices: number;
  sha256: string;
}

export function archiveFileName(campaignId: string): string {
  return `${campaignId}.ndjson.gz`;
}

const EXPORTED = new Set<string>(EXPORT_COLUMNS);

/** A device as its archive line: the export row first, then every stored field the row leaves out. */
export function encodeDeviceLine(device: DeviceRecord): string {
  const extras: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(device)) {
    if (!EXPORTED.has(key)) extras[key] = value;
  }
  return `${JSON.stringify({ ...toExportRow(device), ...extras })}\n`;
}

/** Thrown when an archive is not what its writer promised: cut, altered, or not an archive. */
export class ArchiveCorruptError extends Error {
  override name = 'ArchiveCorruptError';
  /** Reading it again gives the same answer. */
  readonly retryable = false;
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`Archive ${file} is damaged: ${detail}`);
    this.file = file;
  }
}

const REQUIRED = new Set([
  'machineId',
  'state',
  'machineActionId',
  'actionStatus',
  'actionCreatedAt',
  'reason',
  'attempts',
  'requestedAt',
  'joinedExisting',
  'sentAt',
  'deferredUntil',
  'firstBusyAt',
]);

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** Rebuilds the stored record from an archive line (inverse of `encodeDeviceLine`). */
export function decodeDeviceLine(line: string, file: string): DeviceRecord {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new ArchiveCorruptError(file, `unreadable device line ${line.slice(0, 80)}`);
  }
  const machineId = text(raw['machineId']);
  const state = text(raw['state']);
  if (machineId === null || !(DEVICE_STATES as readonly string[]).includes(state ?? '')) {
    throw new ArchiveCorruptError(file, `not a device line: ${line.slice(0, 80)}`);
  }
  const requestedAt = text(raw['requestedAt']);
  // Optional fields the export row always carries (as null when absent), and the one column
  // named differently from its field: the record keeps neither shape of the row.
  const { scanType, ...stored } = raw;
  const optional = Object.fromEntries(
    Object.entries(stored).filter(([key, value]) => value !== null || REQUIRED.has(key)),
  );
  return {
    ...optional,
    ...(typeof scanType === 'string' ? { scanEventType: scanType } : {}),
    machineId,
    state: state as DeviceState,
    machineActionId: text(raw['machineActionId']),
    actionStatus: text(raw['actionStatus']),
    actionCreatedAt: text(raw['actionCreatedAt']),
    reason: text(raw['reason']),
    attempts: num(raw['attempts']) ?? 0,
    requestedAt: requestedAt === null ? null : Date.parse(requestedAt),
    joinedExisting: raw['joinedExisting'] === true,
    sentAt: num(raw['sentAt']),
    deferredUntil: num(raw['deferredUntil']),
    firstBusyAt: num(raw['firstBusyAt']),
  };
}

export function isHeader(value: unknown): value is ArchiveHeader {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<ArchiveHeader>).fleetscanArchive === ARCHIVE_VERSION &&
    typeof (value as Partial<ArchiveHeader>).campaign?.id === 'string'
  );
}

export function isTrailer(value: unknown): value is ArchiveTrailer {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<ArchiveTrailer>).fleetscanArchiveEnd === ARCHIVE_VERSION
  );
}
