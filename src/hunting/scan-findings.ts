import type { DeviceThreats } from '../campaigns/campaign.js';
import { DETECTION_ACTION_TYPE, SOURCE_COLUMN } from './findings-query.js';
import { fieldsOf } from './scan-proof.js';

/** One `AntivirusDetection` row of `DeviceEvents`. */
export interface Detection {
  deviceId: string;
  atMs: number;
  threatName: string;
  fileName: string;
  folderPath: string;
  /** `AdditionalFields.WasRemediated`; null when the row does not say. */
  remediated: boolean | null;
}

/** One alert on one device (`AlertEvidence`, `EntityType == "Machine"`). */
export interface AlertSeen {
  deviceId: string;
  atMs: number;
  alertId: string;
  title: string;
}

/** At most this many names, files and alert titles are kept per device; counts stay exact. */
export const MAX_LISTED = 20;
const MAX_TEXT = 260;

const text = (value: unknown): string =>
  typeof value === 'string' ? value.slice(0, MAX_TEXT) : '';

/** Booleans come as JSON booleans, but community queries also meet "true"/"false" strings. */
function flag(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  return null;
}

/** `FolderPath` is documented as the folder, yet rows often hold the whole path: join only once. */
export function detectionPath(d: Pick<Detection, 'fileName' | 'folderPath'>): string {
  if (d.folderPath === '') return d.fileName;
  if (d.fileName === '' || d.folderPath.toLowerCase().endsWith(d.fileName.toLowerCase()))
    return d.folderPath;
  // macOS and Linux paths use '/', Windows ones '\\'.
  const separator = d.folderPath.includes('\\') ? '\\' : '/';
  return `${d.folderPath.replace(/[\\/]$/, '')}${separator}${d.fileName}`;
}

/**
 * The detections and alerts among the rows of a findings query (scan events are read by
 * `parseScanEvents`); rows of neither kind, or without a device or a time, are skipped.
 */
export function parseFindings(rows: readonly Record<string, unknown>[]): {
  detections: Detection[];
  alerts: AlertSeen[];
} {
  const detections: Detection[] = [];
  const alerts: AlertSeen[] = [];
  for (const row of rows) {
    const deviceId = row['DeviceId'];
    const atMs = Date.parse(typeof row['Timestamp'] === 'string' ? row['Timestamp'] : '');
    if (typeof deviceId !== 'string' || Number.isNaN(atMs)) continue;
    if (row[SOURCE_COLUMN] === 'AlertEvidence') {
      const alertId = text(row['AlertId']);
      if (alertId !== '')
        alerts.push({ deviceId: deviceId.toLowerCase(), atMs, alertId, title: text(row['Title']) });
      continue;
    }
    if (row['ActionType'] !== DETECTION_ACTION_TYPE) continue;
    const fields = fieldsOf(row['AdditionalFields']) ?? {};
    detections.push({
      deviceId: deviceId.toLowerCase(),
      atMs,
      threatName: text(fields['ThreatName']) || '(unnamed threat)',
      fileName: text(row['FileName']),
      folderPath: text(row['FolderPath']),
      remediated: flag(fields['WasRemediated']),
    });
  }
  return { detections, alerts };
}

const distinct = (items: readonly string[]): string[] =>
  [...new Set(items.filter((i) => i !== ''))].sort().slice(0, MAX_LISTED);

/**
 * What a device's scan found: its detections and its new alerts inside `[fromMs, toMs]` (from
 * the request to the scan's end plus the grace period). Every detection row counts (a threat found
 * in two files is two); an alert counts once however many evidence rows it has. A detection that
 * does not say whether it was remediated counts as unremediated: the safe side for a responder.
 */
export function threatsIn(
  detections: readonly Detection[],
  alerts: readonly AlertSeen[],
  fromMs: number,
  toMs: number,
): DeviceThreats {
  const inside = <T extends { atMs: number }>(list: readonly T[]) =>
    list.filter((e) => e.atMs >= fromMs && e.atMs <= toMs).sort((a, b) => a.atMs - b.atMs);
  const found = inside(detections);
  const alerted = new Map(inside(alerts).map((a) => [a.alertId, a.title]));
  return {
    count: found.length,
    names: distinct(found.map((d) => d.threatName)),
    unremediated: found.filter((d) => d.remediated !== true).length,
    files: distinct(found.map(detectionPath)),
    alerts: alerted.size,
    alertTitles: distinct([...alerted.values()]),
    firstAt: found[0] === undefined ? null : new Date(found[0].atMs).toISOString(),
  };
}
