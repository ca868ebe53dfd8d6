import type { ScanResult } from '../campaigns/campaign.js';
import { SCAN_EVENT_TYPES, type ScanEventType } from './scan-evidence-query.js';

export interface ScanEvent {
  deviceId: string;
  atMs: number;
  /** As hunting gave it. */
  at: string;
  actionType: ScanEventType;
  scanType: string | null;
}

/** Windows Defender's scan type index (AdditionalFields.ScanTypeIndex). */
const SCAN_TYPE_NAMES: Readonly<Record<string, string>> = {
  '1': 'Quick',
  '2': 'Full',
  '3': 'Custom',
};

function scanTypeOf(additional: unknown): string | null {
  let fields: unknown = additional;
  if (typeof additional === 'string') {
    try {
      fields = JSON.parse(additional) as unknown;
    } catch {
      return null;
    }
  }
  if (typeof fields !== 'object' || fields === null) return null;
  const index = (fields as Record<string, unknown>)['ScanTypeIndex'];
  if (typeof index !== 'number' && typeof index !== 'string') return null;
  return SCAN_TYPE_NAMES[String(index)] ?? String(index);
}

/** Hunting rows as scan events; rows that are not one (unknown action type, bad time) are skipped. */
export function parseScanEvents(rows: readonly Record<string, unknown>[]): ScanEvent[] {
  const events: ScanEvent[] = [];
  for (const row of rows) {
    const deviceId = row['DeviceId'];
    const at = row['Timestamp'];
    const actionType = row['ActionType'];
    if (typeof deviceId !== 'string' || typeof at !== 'string') continue;
    if (!(SCAN_EVENT_TYPES as readonly unknown[]).includes(actionType)) continue;
    const atMs = Date.parse(at);
    if (Number.isNaN(atMs)) continue;
    events.push({
      deviceId: deviceId.toLowerCase(),
      atMs,
      at,
      actionType: actionType as ScanEventType,
      scanType: scanTypeOf(row['AdditionalFields']),
    });
  }
  return events;
}

const RESULT_OF: Readonly<Record<ScanEventType, ScanResult>> = {
  AntivirusScanCompleted: 'completed',
  AntivirusScanCancelled: 'cancelled',
  AntivirusScanFailed: 'failed',
};

export interface DeviceProof {
  result: ScanResult;
  at: string | null;
  scanType: string | null;
}

/**
 * A device's proof: nothing links an event to an action, so the first scan event at or after the
 * action's creation is taken as the end of that scan; none means no evidence (yet).
 */
export function proofFor(events: readonly ScanEvent[], actionCreatedMs: number): DeviceProof {
  let first: ScanEvent | undefined;
  for (const event of events) {
    if (event.atMs < actionCreatedMs) continue;
    if (!first || event.atMs < first.atMs) first = event;
  }
  return first
    ? { result: RESULT_OF[first.actionType], at: first.at, scanType: first.scanType }
    : { result: 'no-evidence', at: null, scanType: null };
}
