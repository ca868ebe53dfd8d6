import { mdeTimestamp, type ScanEvidence, type StoredAction } from './machine-actions.js';
import type { EvidenceOptions } from './options.js';
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

/** Windows Defender's scan type index as the event reports it. */
const SCAN_TYPE_INDEX: Readonly<Record<string, number>> = { Quick: 1, Full: 2 };

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
    AdditionalFields: JSON.stringify({
      ScanTypeIndex: SCAN_TYPE_INDEX[action.scope] ?? 0,
      User: 'NT AUTHORITY\\SYSTEM',
    }),
  };
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
