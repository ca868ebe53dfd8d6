import { createHash } from 'node:crypto';
import { mdeTimestamp, type ScanEvidence, type StoredAction } from './machine-actions.js';
import type { EvidenceOptions, ScheduledScanOptions } from './options.js';
import type { Random } from './random.js';

/** One `DeviceEvents` row as advanced hunting returns it (the columns fleetscan may project). */
export interface DeviceEventRow {
  Timestamp: string;
  DeviceId: string;
  DeviceName: string;
  ActionType: ScanEvidence['actionType'];
  /** JSON text, as hunting returns dynamic columns. */
  AdditionalFields: string;
}

/**
 * Defender Antivirus' own event fields (Microsoft Learn, "Microsoft Defender Antivirus event IDs
 * and error codes"): "Scan Type" is the engine (1 Antivirus, 2 Antispyware, 3 Antimalware; a
 * Defender scan reports Antimalware), "Scan Parameters" the kind (1 Quick, 2 Full, 3 Custom).
 * Every row carries both, so a client that reads the kind from `ScanTypeIndex` gets "Custom".
 */
const ANTIMALWARE = 3;
const SCAN_PARAMETERS_INDEX: Readonly<Record<string, number>> = { Quick: 1, Full: 2, Custom: 3 };

/** A stable `{GUID}` for a scan, from what identifies it. */
function scanGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}}`.toUpperCase();
}

function additionalFields(kind: string, scanId: string): string {
  return JSON.stringify({
    ScanTypeIndex: ANTIMALWARE,
    ScanParametersIndex: SCAN_PARAMETERS_INDEX[kind] ?? 0,
    ScanId: scanId,
    Domain: 'NT AUTHORITY',
    User: 'SYSTEM',
  });
}

/**
 * What the device will report for a scan that is delivered (Succeeded) at `succeededMs`: an event
 * some time later, completed for most, cancelled or failed for some, nothing at all for the rest.
 */
export function planEvidence(
  random: Random,
  options: EvidenceOptions,
  succeededMs: number,
): ScanEvidence | null {
  const draw = random.next();
  const [min, max] = options.delayMs;
  const atMs = succeededMs + Math.round(min + random.next() * (max - min));
  if (draw < options.completedRate) return { atMs, actionType: 'AntivirusScanCompleted' };
  if (draw < options.completedRate + options.cancelledRate)
    return { atMs, actionType: 'AntivirusScanCancelled' };
  if (draw < options.completedRate + options.cancelledRate + options.failedRate)
    return { atMs, actionType: 'AntivirusScanFailed' };
  return null;
}

export function eventRow(action: StoredAction, evidence: ScanEvidence): DeviceEventRow {
  return {
    Timestamp: mdeTimestamp(evidence.atMs),
    DeviceId: action.machineId,
    DeviceName: action.computerDnsName,
    ActionType: evidence.actionType,
    AdditionalFields: additionalFields(action.scope, scanGuid('action', action.id)),
  };
}

/** A unit fraction from a hash, for per-device draws that need no shared random stream. */
function fraction(...parts: string[]): number {
  return createHash('sha256').update(parts.join('|')).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The scheduled scans (Defender's own schedule, unrelated to any campaign) that a device reported
 * ending in `[fromMs, toMs]`: the same `AntivirusScanCompleted` rows a requested scan writes. A
 * device has them when its draw is below `share`; they end every `everyMs` at a phase of its own,
 * each Full with chance `fullShare`, else Quick.
 */
export function scheduledScanRows(
  device: { id: string; computerDnsName: string },
  options: ScheduledScanOptions,
  seed: number,
  fromMs: number,
  toMs: number,
): DeviceEventRow[] {
  if (options.share <= 0 || fraction(String(seed), device.id, 'has') >= options.share) return [];
  const phase = Math.floor(fraction(String(seed), device.id, 'phase') * options.everyMs);
  const rows: DeviceEventRow[] = [];
  for (let k = Math.ceil((fromMs - phase) / options.everyMs); ; k++) {
    const atMs = phase + k * options.everyMs;
    if (atMs > toMs) break;
    const kind =
      fraction(String(seed), device.id, String(k)) < options.fullShare ? 'Full' : 'Quick';
    rows.push({
      Timestamp: mdeTimestamp(atMs),
      DeviceId: device.id,
      DeviceName: device.computerDnsName,
      ActionType: 'AntivirusScanCompleted',
      AdditionalFields: additionalFields(kind, scanGuid('scheduled', device.id, String(k))),
    });
  }
  return rows;
}

/** Every scan event reported by `nowMs` (events planned for later are not there yet). */
export function scanEvents(actions: Iterable<StoredAction>, nowMs: number): DeviceEventRow[] {
  const rows: DeviceEventRow[] = [];
  for (const action of actions) {
    const evidence = action.evidence;
    if (evidence && evidence.atMs <= nowMs) rows.push(eventRow(action, evidence));
  }
  return rows;
}
