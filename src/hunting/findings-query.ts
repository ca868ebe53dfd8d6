import { checkDeviceIds, SCAN_EVENT_TYPES } from './scan-evidence-query.js';

/** Defender Antivirus' detection in `DeviceEvents` (one row per threat found). */
export const DETECTION_ACTION_TYPE = 'AntivirusDetection';
/** The union's source column: which table a row came from. */
export const SOURCE_COLUMN = 'SourceTable';

/**
 * The KQL `verify` sends, one query per chunk of devices: the scan events and the antivirus
 * detections of `DeviceEvents`, and the alerts of `AlertEvidence` (one row per alert and device:
 * `EntityType == "Machine"`), since `sinceMs`. The ids are bound once with `let` so the list is
 * not written twice, and the outer union names each row's table in `SourceTable`. One query per
 * chunk, as before the findings: the hunting budget (45 calls/min) pays nothing more for them.
 */
export function findingsQuery(sinceMs: number, deviceIds: readonly string[]): string {
  checkDeviceIds(deviceIds);
  const since = `| where Timestamp >= datetime(${new Date(sinceMs).toISOString()})`;
  const types = [...SCAN_EVENT_TYPES, DETECTION_ACTION_TYPE].map((t) => `"${t}"`).join(', ');
  return [
    `let ids = dynamic([${deviceIds.map((id) => `"${id}"`).join(', ')}]);`,
    `union withsource=${SOURCE_COLUMN}`,
    '(DeviceEvents',
    since,
    `| where ActionType in (${types})`,
    '| where DeviceId in (ids)',
    '| project Timestamp, DeviceId, ActionType, FileName, FolderPath, SHA1, AdditionalFields),',
    '(AlertEvidence',
    since,
    '| where EntityType == "Machine"',
    '| where DeviceId in (ids)',
    '| project Timestamp, DeviceId, AlertId, Title)',
  ].join('\n');
}
