import type { ScanResult } from '../campaigns/campaign.js';
import type { ScanType } from '../defender/machine-action.js';
import { SCAN_EVENT_TYPES, type ScanEventType } from './scan-evidence-query.js';

export interface ScanEvent {
  deviceId: string;
  atMs: number;
  /** As hunting gave it. */
  at: string;
  actionType: ScanEventType;
  /** Quick / Full / Custom from `ScanParametersIndex`, the raw index if unknown, null if absent. */
  scanType: string | null;
  /** `ScanId` (one scan's GUID), or null when the row carries none. */
  scanId: string | null;
}

/**
 * Defender Antivirus' "Scan Parameters" (`AdditionalFields.ScanParametersIndex`): the scan's kind.
 * Not `ScanTypeIndex`, which is the engine's "Scan Type" (Antivirus / Antispyware / Antimalware),
 * per Microsoft Learn, "Microsoft Defender Antivirus event IDs and error codes".
 */
const SCAN_KIND_NAMES: Readonly<Record<string, string>> = {
  '1': 'Quick',
  '2': 'Full',
  '3': 'Custom',
};

/** `AdditionalFields` as an object: hunting returns dynamic columns as JSON text or as objects. */
export function fieldsOf(additional: unknown): Record<string, unknown> | null {
  let fields: unknown = additional;
  if (typeof additional === 'string') {
    try {
      fields = JSON.parse(additional) as unknown;
    } catch {
      return null;
    }
  }
  return typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : null;
}

function scanKindOf(fields: Record<string, unknown> | null): string | null {
  const index = fields?.['ScanParametersIndex'];
  if (typeof index !== 'number' && typeof index !== 'string') return null;
  return SCAN_KIND_NAMES[String(index)] ?? String(index);
}

function scanIdOf(fields: Record<string, unknown> | null): string | null {
  const id = fields?.['ScanId'];
  return typeof id === 'string' && id !== '' ? id.toLowerCase() : null;
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
    const fields = fieldsOf(row['AdditionalFields']);
    events.push({
      deviceId: deviceId.toLowerCase(),
      atMs,
      at,
      actionType: actionType as ScanEventType,
      scanType: scanKindOf(fields),
      scanId: scanIdOf(fields),
    });
  }
  return events;
}

const RESULT_OF: Readonly<Record<ScanEventType, ScanResult>> = {
  AntivirusScanCompleted: 'completed',
  AntivirusScanCancelled: 'cancelled',
  AntivirusScanFailed: 'failed',
};

/**
 * How long after delivery a scan of each kind may end and still be the one fleetscan asked for.
 * Microsoft publishes no durations; a Quick scan takes minutes, a Full one hours.
 */
export const SCAN_WINDOW_MS: Readonly<Record<ScanType, number>> = {
  Quick: 2 * 3_600_000,
  Full: 24 * 3_600_000,
};

export interface DeviceProof {
  result: ScanResult;
  at: string | null;
  scanType: string | null;
}

/**
 * A device's proof. Nothing links a scan event to an action, and scheduled scans write the same
 * events, so only scans of the requested kind that ended in `[deliveredMs, deliveredMs + window]`
 * are candidates. One candidate scan proves its result; two or more (another scan of the same
 * kind overlapped, e.g. a scheduled one), or a candidate beside an event of unknown kind, are
 * `ambiguous`; none is `no-evidence` (yet).
 */
export function proofFor(
  events: readonly ScanEvent[],
  requested: ScanType,
  deliveredMs: number,
): DeviceProof {
  const endMs = deliveredMs + SCAN_WINDOW_MS[requested];
  const inWindow = events
    .filter((e) => e.atMs >= deliveredMs && e.atMs <= endMs)
    .sort((a, b) => a.atMs - b.atMs);
  const matching = inWindow.filter((e) => e.scanType === requested);
  const unknownKind = inWindow.some((e) => e.scanType === null);
  // Events without a ScanId cannot be told apart: each counts as its own scan.
  const scans = new Set(matching.map((e, i) => e.scanId ?? `#${String(i)}`));
  const first = matching[0];
  if (first === undefined) {
    const unknown = inWindow.find((e) => e.scanType === null);
    return unknown
      ? { result: 'ambiguous', at: unknown.at, scanType: null }
      : { result: 'no-evidence', at: null, scanType: null };
  }
  if (scans.size > 1 || unknownKind)
    return { result: 'ambiguous', at: first.at, scanType: requested };
  return { result: RESULT_OF[first.actionType], at: first.at, scanType: first.scanType };
}
