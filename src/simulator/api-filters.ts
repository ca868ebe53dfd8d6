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

/** What `GET /api/machines` accepts in `$filter` (mde-api.md); `rbacGroupName` is not filterable. */
export const MACHINE_FILTER: FilterSchema<SimMachine> = {
  id: { type: 'string', ops: ['eq'], get: (m) => m.id },
  computerDnsName: { type: 'string', ops: ['eq'], get: (m) => m.computerDnsName },
  healthStatus: { type: 'string', ops: ['eq'], values: HEALTH, get: (m) => m.healthStatus },
  onboardingStatus: {
    type: 'string',
    ops: ['eq'],
    values: ONBOARDING,
    get: (m) => m.onboardingStatus,
  },
  osPlatform: { type: 'string', ops: ['eq'], get: (m) => m.osPlatform },
  rbacGroupId: { type: 'number', ops: ['eq'], get: (m) => m.rbacGroupId },
  machineTags: { type: 'collection', ops: [], get: (m) => m.machineTags },
  lastSeen: { type: 'datetime', ops: ['gt', 'ge', 'lt', 'le'], get: (m) => Date.parse(m.lastSeen) },
  riskScore: { type: 'string', ops: ['eq'], values: LEVELS, get: (m) => str(m['riskScore']) },
  exposureLevel: {
    type: 'string',
    ops: ['eq'],
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
  id: { type: 'string', ops: ['eq'], get: (a) => a.action.id },
  machineId: { type: 'string', ops: ['eq'], get: (a) => a.action.machineId },
  type: { type: 'string', ops: ['eq'], values: ACTION_TYPES, get: (a) => a.action.type },
  status: {
    type: 'string',
    ops: ['eq'],
    values: ACTION_STATUSES,
    get: (a) => statusAt(a.action, a.nowMs),
  },
  requestor: { type: 'string', ops: ['eq'], get: (a) => a.action.requestor },
  creationDateTimeUtc: {
    type: 'datetime',
    ops: ['ge', 'gt', 'lt', 'le'],
    get: (a) => a.action.createdMs,
  },
};
