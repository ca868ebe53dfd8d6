/** Types in Microsoft's own nouns (mde-api.md). Unknown fields are kept as they came. */

export const SCAN_TYPES = ['Quick', 'Full'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];

export const ACTION_STATUSES = [
  'Pending',
  'InProgress',
  'Succeeded',
  'Failed',
  'TimeOut',
  'Cancelled',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const TERMINAL_ACTION_STATUSES: ReadonlySet<string> = new Set([
  'Succeeded',
  'Failed',
  'TimeOut',
  'Cancelled',
]);

export interface MachineAction {
  id: string;
  type: string;
  scope?: string | null;
  requestor?: string | null;
  requestorComment?: string | null;
  requestSource?: string | null;
  externalId?: string | null;
  status: string;
  machineId: string;
  computerDnsName?: string | null;
  creationDateTimeUtc: string;
  /** Normalised from `lastUpdateDateTimeUtc` or the documented alias `lastUpdateTimeUtc`. */
  lastUpdateDateTimeUtc?: string | null;
  cancellationRequestor?: string | null;
  cancellationComment?: string | null;
  cancellationDateTimeUtc?: string | null;
  errorHResult?: number | null;
  troubleshootInfo?: string | null;
  title?: string | null;
  [unknownField: string]: unknown;
}

export interface Machine {
  id: string;
  computerDnsName?: string | null;
  healthStatus?: string | null;
  onboardingStatus?: string | null;
  osPlatform?: string | null;
  /** Sensor / Defender client version (macOS and Linux scans need 101.98.84 or later). */
  agentVersion?: string | null;
  machineTags?: string[] | null;
  rbacGroupId?: number | string | null;
  rbacGroupName?: string | null;
  lastSeen?: string | null;
  isExcluded?: boolean | null;
  isPotentialDuplication?: boolean | null;
  mergedIntoMachineId?: string | null;
  [unknownField: string]: unknown;
}

/**
 * Endpoint families, each with its own budget (mde-api.md: every page states its own 100/min,
 * 1500/h; whether they share one is unknown, so a deployment may map them all to one family).
 */
export const ENDPOINT_FAMILIES = ['scan', 'machineActions', 'cancel', 'machines'] as const;
export type EndpointFamily = (typeof ENDPOINT_FAMILIES)[number];
