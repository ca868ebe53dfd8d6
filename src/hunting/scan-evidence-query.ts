export const SCAN_EVENT_TYPES = [
  'AntivirusScanCompleted',
  'AntivirusScanCancelled',
  'AntivirusScanFailed',
] as const;
export type ScanEventType = (typeof SCAN_EVENT_TYPES)[number];

const DEVICE_ID = /^[0-9a-f]{40}$/;

/** Throws unless every id is a device id (40 lowercase hex): nothing else may reach a query. */
export function checkDeviceIds(deviceIds: readonly string[]): void {
  if (deviceIds.length === 0) throw new RangeError('A scan evidence query needs device ids');
  for (const id of deviceIds) {
    if (!DEVICE_ID.test(id))
      throw new RangeError(`Not a device id: ${JSON.stringify(id.slice(0, 60))}`);
  }
}

/**
 * The KQL fleetscan's doctor sends: scan events of the given devices since `sinceMs`. Device ids are
 * checked (40 lowercase hex) before they are quoted, so nothing else can reach the query text.
 */
export function scanEvidenceQuery(sinceMs: number, deviceIds: readonly string[]): string {
  checkDeviceIds(deviceIds);
  return [
    'DeviceEvents',
    `| where Timestamp >= datetime(${new Date(sinceMs).toISOString()})`,
    `| where ActionType in (${SCAN_EVENT_TYPES.map((t) => `"${t}"`).join(', ')})`,
    `| where DeviceId in (${deviceIds.map((id) => `"${id}"`).join(', ')})`,
    '| project Timestamp, DeviceId, ActionType, AdditionalFields',
  ].join('\n');
}

/** `Timespan` covering `sinceMs` to `nowMs` in whole hours, at least one (ISO 8601 duration). */
export function timespanSince(sinceMs: number, nowMs: number): string {
  return `PT${Math.max(1, Math.ceil((nowMs - sinceMs) / 3_600_000) + 1)}H`;
}
