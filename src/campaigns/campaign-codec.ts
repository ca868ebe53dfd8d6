import { SCAN_TYPES, type ScanType } from '../defender/machine-action.js';
import {
  CAMPAIGN_STATES,
  DEFAULT_TENANT,
  PRIORITIES,
  type DispatchWindow,
  type Priority,
  DEVICE_STATES,
  type Campaign,
  type CampaignMeta,
  type CampaignState,
  type DeviceState,
} from './campaign.js';

/** The campaign hash as written by `createCampaign`: every meta field as a string. */
export function encodeCampaignMeta(meta: CampaignMeta): string[] {
  return [
    'id', meta.id,
    'name', meta.name,
    'scanType', meta.scanType,
    'comment', meta.comment,
    'createdAt', String(meta.createdAt),
    'createdBy', meta.createdBy,
    'source', meta.source,
    'tenant', meta.tenant,
    'priority', meta.priority,
    'window', meta.window === null ? '' : JSON.stringify(meta.window),
    'schedule', meta.schedule ?? '',
  ]; // prettier-ignore
}

/** Builds a `Campaign` from its two hashes (campaign meta + counts). */
export function decodeCampaign(
  fields: Record<string, string>,
  counts: Record<string, string>,
): Campaign {
  const byState = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as Record<
    DeviceState,
    number
  >;
  for (const s of DEVICE_STATES) byState[s] = Number(counts[s] ?? 0);
  const failuresByReason: Record<string, number> = {};
  for (const [field, value] of Object.entries(counts)) {
    if (field.startsWith('fail:') && Number(value) > 0)
      failuresByReason[field.slice(5)] = Number(value);
  }
  const scanType = fields['scanType'] ?? 'Quick';
  const state = fields['state'] ?? 'running';
  return {
    id: fields['id'] ?? '',
    name: fields['name'] ?? '',
    scanType: (SCAN_TYPES as readonly string[]).includes(scanType)
      ? (scanType as ScanType)
      : 'Quick',
    comment: fields['comment'] ?? '',
    createdAt: Number(fields['createdAt'] ?? 0),
    createdBy: fields['createdBy'] ?? '',
    source: fields['source'] ?? '',
    tenant: fields['tenant'] || DEFAULT_TENANT,
    priority: (PRIORITIES as readonly string[]).includes(fields['priority'] ?? '')
      ? (fields['priority'] as Priority)
      : 'normal',
    window: decodeWindow(fields['window']),
    schedule: fields['schedule'] || null,
    state: (CAMPAIGN_STATES as readonly string[]).includes(state)
      ? (state as CampaignState)
      : 'running',
    finishedAt: fields['finishedAt'] === undefined ? null : Number(fields['finishedAt']),
    total: DEVICE_STATES.reduce((sum, s) => sum + byState[s], 0),
    counts: byState,
    joinedExisting: Number(counts['joined'] ?? 0),
    failuresByReason,
    deferrals: Number(counts['deferrals'] ?? 0),
    // How many intakes are open (counted since issue 9; older records hold '1').
    intakeOpen: Number(fields['open'] ?? 0) > 0,
    reconcile: Number(fields['reconcile'] ?? 0),
  };
}

function decodeWindow(text: string | undefined): DispatchWindow | null {
  if (!text) return null;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) return null;
  const { start, end, tz } = value as Record<string, unknown>;
  return typeof start === 'string' && typeof end === 'string' && typeof tz === 'string'
    ? { start, end, tz }
    : null;
}
