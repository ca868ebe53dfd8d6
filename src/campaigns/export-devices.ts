import type { DeviceRecord } from './campaign.js';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * What the scan found (`verify`), empty until a verify run looked at the device: antivirus
 * detections from the request to the scan's end plus the grace, their distinct threat names
 * (`; `-separated), those not (known to be) remediated, the detected files' paths, and the new
 * alerts on the device in that window.
 */
const THREAT_COLUMNS = [
  'threats',
  'threatNames',
  'unremediated',
  'threatFiles',
  'alerts',
  'alertTitles',
] as const;

/** The export columns, in order; scripts read them by these names. */
export const EXPORT_COLUMNS = [
  'machineId',
  'state',
  'machineActionId',
  'actionStatus',
  'reason',
  'attempts',
  'requestedAt',
  'joinedExisting',
  'actionUpdatedAt',
  'cancelResult',
  'scanResult',
  'scanCompletedAt',
  'scanType',
  // Appended, so scripts reading the columns by position before them keep working.
  'hostname',
  /** While deferred (busy): when the device is tried again, ISO-8601. */
  'nextAttemptAt',
  ...THREAT_COLUMNS,
] as const;

/** Appended when the campaign is known: which tenant and class the device's call belonged to. */
export const CAMPAIGN_COLUMNS = ['tenant', 'priority'] as const;

export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | boolean | null> &
  Partial<Record<(typeof CAMPAIGN_COLUMNS)[number], string>>;

/** The campaign a device belongs to, as the export shows it. */
export interface ExportContext {
  tenant: string;
  priority: string;
}

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

/** One device as an export row; `requestedAt` in ISO-8601. */
export function toExportRow(device: DeviceRecord): ExportRow {
  return {
    machineId: device.machineId,
    state: device.state,
    machineActionId: device.machineActionId,
    actionStatus: device.actionStatus,
    reason: device.reason,
    attempts: device.attempts,
    requestedAt: device.requestedAt === null ? null : new Date(device.requestedAt).toISOString(),
    joinedExisting: device.joinedExisting,
    actionUpdatedAt: device.actionUpdatedAt ?? null,
    cancelResult: device.cancelResult ?? null,
    scanResult: device.scanResult ?? null,
    scanCompletedAt: device.scanCompletedAt ?? null,
    scanType: device.scanEventType ?? null,
    hostname: device.hostname ?? null,
    nextAttemptAt:
      device.state === 'deferred' && device.deferredUntil !== null
        ? new Date(device.deferredUntil).toISOString()
        : null,
    ...threatColumns(device),
  };
}

/** The findings columns: null while unverified, counts and `; `-joined lists after. */
function threatColumns(device: DeviceRecord): Pick<ExportRow, (typeof THREAT_COLUMNS)[number]> {
  const t = device.threats;
  return {
    threats: t?.count ?? null,
    threatNames: t ? t.names.join('; ') : null,
    unremediated: t?.unremediated ?? null,
    threatFiles: t ? t.files.join('; ') : null,
    alerts: t?.alerts ?? null,
    alertTitles: t ? t.alertTitles.join('; ') : null,
  };
}

/**
 * One CSV cell: quoted when it holds a quote, comma or line break (RFC 4180), and defused when a
 * spreadsheet would read it as a formula. Reasons carry Microsoft's messages, which fleetscan
 * does not control, so a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`
 * (OWASP "CSV injection").
 */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Streams a campaign's devices as export text in `format`, a chunk at a time (the same writer
 * serves `fleetscan export` and the dashboard's download links). JSON is one array, written
 * element by element so a 100,000-device campaign never sits in memory whole.
 */
export async function* exportDevices(
  devices: AsyncIterable<DeviceRecord>,
  format: ExportFormat,
  context?: ExportContext,
): AsyncIterable<string> {
  const columns: readonly (keyof ExportRow)[] = context
    ? [...EXPORT_COLUMNS, ...CAMPAIGN_COLUMNS]
    : EXPORT_COLUMNS;
  if (format === 'csv') yield `${columns.join(',')}\r\n`;
  if (format === 'json') yield '[';
  let first = true;
  let batch = '';
  for await (const device of devices) {
    const row: ExportRow = context
      ? { ...toExportRow(device), tenant: context.tenant, priority: context.priority }
      : toExportRow(device);
    if (format === 'csv') batch += `${columns.map((c) => csvCell(row[c] ?? null)).join(',')}\r\n`;
    else if (format === 'ndjson') batch += `${JSON.stringify(row)}\n`;
    else batch += `${first ? '\n' : ',\n'}  ${JSON.stringify(row)}`;
    first = false;
    // Hand out ~64 KB at a time: fewer writes than one per row, bounded memory.
    if (batch.length >= 65_536) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
  if (format === 'json') yield first ? ']\n' : '\n]\n';
}
