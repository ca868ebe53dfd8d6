import type { SimMachine } from './fleet.js';
import { ACTION_STATUSES, ACTION_TYPES, type StoredAction, statusAt } from './machine-actions.js';
import type { FilterSchema } from './odata-filter.js';

const HEALTH = [
  'Active',
  'Inactive',
  'ImpairedCommunication',
  'NoSensorData',
  'NoSensorDataImpairedCommunication',
  'Unknown',
];
const ONBOARDING = ['Onboarded', 'CanBeOnboarded', 'Unsupported', 'InsufficientInfo'];
const LEVELS = ['None', 'Informational', 'Low', 'Medium', 'High'];
const EXPOSURE = ['None', 'Low', 'Medium', 'High'];

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const DEVICE_VALUES = ['Normal', 'Low', 'High'];
const EQ_NE = ['eq', 'ne'] as const;

/**
 * What `GET /api/machines` accepts in `$filter`: the fields Microsoft Learn "List machines API"
 * lists (computerDnsName, id, version, deviceValue, aadDeviceId, machineTags, lastSeen,
 * exposureLevel, onboardingStatus, lastIpAddress, healthStatus, osPlatform, riskScore,
 * rbacGroupId), `eq`/`ne` on each scalar, `startswith()` on the free-text ones.
 * `rbacGroupName` is not filterable.
 */
export const MACHINE_FILTER: FilterSchema<SimMachine> = {
  id: { type: 'string', ops: EQ_NE, startsWith: true, get: (m) => m.id },
  computerDnsName: {
    type: 'string',
    ops: EQ_NE,
    startsWith: true,
    get: (m) => m.computerDnsName,
  },
  version: { type: 'string', ops: EQ_NE, startsWith: true, get: (m) => str(m['version']) },
  deviceValue: {
    type: 'string',
    ops: EQ_NE,
    values: DEVICE_VALUES,
    get: (m) => str(m['deviceValue']),
  },
  aadDeviceId: { type: 'string', ops: EQ_NE, get: (m) => str(m['aadDeviceId']) },
  lastIpAddress: {
    type: 'string',
    ops: EQ_NE,
    startsWith: true,
    get: (m) => str(m['lastIpAddress']),
  },
  healthStatus: { type: 'string', ops: EQ_NE, values: HEALTH, get: (m) => m.healthStatus },
  onboardingStatus: {
    type: 'string',
    ops: EQ_NE,
    values: ONBOARDING,
    get: (m) => m.onboardingStatus,
  },
  osPlatform: { type: 'string', ops: EQ_NE, startsWith: true, get: (m) => m.osPlatform },
  rbacGroupId: { type: 'number', ops: EQ_NE, get: (m) => m.rbacGroupId },
  machineTags: { type: 'collection', ops: [], get: (m) => m.machineTags },
  lastSeen: { type: 'datetime', ops: ['gt', 'ge', 'lt', 'le'], get: (m) => Date.parse(m.lastSeen) },
  riskScore: { type: 'string', ops: EQ_NE, values: LEVELS, get: (m) => str(m['riskScore']) },
  exposureLevel: {
    type: 'string',
    ops: EQ_NE,
    values: EXPOSURE,
    get: (m) => str(m['exposureLevel']),
  },
};

/** An action seen at one instant, for filtering by its current status. */
export interface ActionAt {
  action: StoredAction;
  nowMs: number;
}

/** What `GET /api/machineactions` accepts in `$filter` (mde-api.md). */
export const ACTION_FILTER: FilterSchema<ActionAt> = {
  id: { type: 'string', ops: EQ_NE, get: (a) => a.action.id },
  machineId: { type: 'string', ops: EQ_NE, get: (a) => a.action.machineId },
  type: { type: 'string', ops: EQ_NE, values: ACTION_TYPES, get: (a) => a.action.type },
  status: {
    type: 'string',
    ops: EQ_NE,
    values: ACTION_STATUSES,
    get: (a) => statusAt(a.action, a.nowMs),
  },
  requestor: { type: 'string', ops: EQ_NE, get: (a) => a.action.requestor },
  creationDateTimeUtc: {
    type: 'datetime',
    ops: ['ge', 'gt', 'lt', 'le'],
    get: (a) => a.action.createdMs,
  },
};
