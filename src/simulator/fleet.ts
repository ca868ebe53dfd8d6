import { createRandom, type Random } from './random.js';

/** Hidden traits that steer how a device behaves; never part of an API answer. */
export interface MachineTraits {
  /** The device never picks up commands: its actions stay Pending, then end as `offlineOutcome`. */
  offline?: boolean;
  offlineOutcome?: 'TimeOut' | 'Failed';
  /** At start, the device already runs a scan somebody else asked for. */
  busyWithOtherScan?: boolean;
}

/** A device as the simulator keeps it: the API fields, plus `simulation` traits. */
export interface SimMachine {
  id: string;
  computerDnsName: string;
  osPlatform: string;
  healthStatus: string;
  onboardingStatus: string;
  machineTags: string[];
  rbacGroupId: number | null;
  rbacGroupName: string | null;
  lastSeen: string;
  isExcluded: boolean;
  isPotentialDuplication: boolean;
  mergedIntoMachineId: string | null;
  simulation: MachineTraits;
  [field: string]: unknown;
}

/** Shares of special devices in a generated fleet; the rest are healthy and reachable. */
export interface FleetMix {
  inactive: number;
  excluded: number;
  duplicate: number;
  unsupportedOs: number;
  offline: number;
  busy: number;
  /**
   * Reachable devices whose health reads ImpairedCommunication, NoSensorData or
   * NoSensorDataImpairedCommunication: they still take commands (default 0).
   */
  impaired: number;
  /** macOS/Linux devices with a client older than 101.98.84: scans answer 400 (default 0). */
  oldClient: number;
}

export const DEFAULT_FLEET_MIX: FleetMix = {
  inactive: 0.03,
  excluded: 0.01,
  duplicate: 0.01,
  unsupportedOs: 0.02,
  offline: 0.02,
  busy: 0.03,
  impaired: 0,
  oldClient: 0,
};

export const SUPPORTED_PLATFORMS: readonly string[] = [
  'Windows10',
  'Windows11',
  'WindowsServer2012R2',
  'WindowsServer2016',
  'WindowsServer2019',
  'WindowsServer2022',
  'WindowsServer2025',
  'macOS',
  'Linux',
];

const TAGS = ['Finance', 'Sales', 'Engineering', 'HR', 'Servers', 'VIP', 'Kiosk', 'Pilot'];
const GROUPS: ReadonlyArray<readonly [number, string]> = [
  [101, 'Workstations'],
  [102, 'Servers'],
  [103, 'Laptops EMEA'],
  [104, 'Laptops Americas'],
  [105, 'Lab'],
];
const DAY = 86_400_000;

type Kind = 'normal' | keyof FleetMix;

/** A deterministic fleet of `count` devices for `seed`, seen as of `nowMs`. */
export function generateFleet(
  count: number,
  seed: number,
  nowMs: number,
  mix: Partial<FleetMix> = {},
): SimMachine[] {
  const rng = createRandom(seed ^ 0x5eed);
  const shares = { ...DEFAULT_FLEET_MIX, ...mix };
  const machines: SimMachine[] = [];
  for (let i = 0; i < count; i++) {
    machines.push(generateMachine(rng, i, kindOf(rng.next(), shares), nowMs, machines));
  }
  return machines;
}

function kindOf(roll: number, shares: FleetMix): Kind {
  let edge = 0;
  for (const kind of Object.keys(shares) as (keyof FleetMix)[]) {
    edge += shares[kind];
    if (roll < edge) return kind;
  }
  return 'normal';
}

function generateMachine(
  rng: Random,
  index: number,
  kind: Kind,
  nowMs: number,
  before: SimMachine[],
): SimMachine {
  const os =
    kind === 'unsupportedOs'
      ? rng.pick(['iOS', 'Android'])
      : kind === 'oldClient'
        ? rng.pick(['macOS', 'Linux'])
        : normalPlatform(rng);
  const [rbacGroupId, rbacGroupName] = os.startsWith('WindowsServer')
    ? [102, 'Servers']
    : rng.pick(GROUPS);
  const tags = TAGS.filter(() => rng.chance(0.15));
  const inactive = kind === 'inactive' || kind === 'duplicate';
  const lastSeenMs = inactive ? nowMs - rng.int(8, 60) * DAY : nowMs - rng.int(1, 3600) * 1000;
  const firstSeenMs = lastSeenMs - rng.int(30, 900) * DAY;
  const mergedInto =
    kind === 'duplicate' && before.length > 0 && rng.chance(0.5) ? rng.pick(before).id : null;
  const host = `${os.startsWith('WindowsServer') ? 'srv' : 'desk'}-${String(index + 1).padStart(5, '0')}`;
  return {
    id: rng.hex(40),
    computerDnsName: `${host}.contoso.local`,
    firstSeen: new Date(firstSeenMs).toISOString(),
    lastSeen: new Date(lastSeenMs).toISOString(),
    osPlatform: os,
    osProcessor: 'x64',
    version: os.startsWith('Windows') ? rng.pick(['22H2', '23H2', '24H2']) : null,
    osBuild: os.startsWith('Windows') ? rng.int(19_045, 26_100) : null,
    agentVersion: agentVersion(os, kind, rng.int(700, 799), rng.int(19_000, 26_000)),
    lastIpAddress: `10.${String(rng.int(0, 255))}.${String(rng.int(0, 255))}.${String(rng.int(1, 254))}`,
    lastExternalIpAddress: `203.0.113.${String(rng.int(1, 254))}`,
    healthStatus: inactive
      ? 'Inactive'
      : kind === 'offline'
        ? rng.pick(['Active', 'ImpairedCommunication', 'NoSensorData'])
        : kind === 'impaired'
          ? rng.pick(['ImpairedCommunication', 'NoSensorData', 'NoSensorDataImpairedCommunication'])
          : 'Active',
    onboardingStatus: 'Onboarded',
    deviceValue: 'Normal',
    rbacGroupId,
    rbacGroupName,
    riskScore: rng.pick(['None', 'Informational', 'Low', 'Medium', 'High']),
    exposureLevel: rng.pick(['None', 'Low', 'Medium', 'High']),
    isAadJoined: rng.chance(0.7),
    aadDeviceId: rng.guid(),
    machineTags: tags,
    isExcluded: kind === 'excluded',
    exclusionReason: kind === 'excluded' ? rng.pick(['FalsePositive', 'Other']) : null,
    isPotentialDuplication: kind === 'duplicate',
    mergedIntoMachineId: mergedInto,
    simulation: {
      offline: inactive || kind === 'offline',
      offlineOutcome: rng.chance(0.8) ? 'TimeOut' : 'Failed',
      busyWithOtherScan: kind === 'busy',
    },
  };
}

/**
 * Windows sensors report 10.8xxx.xxxxx.1000; the macOS/Linux client 101.yyyyy.zzzz, which runs a
 * scan from 101.98.84 on (Microsoft Learn, "Take response actions on a device").
 */
function agentVersion(os: string, kind: Kind, a: number, b: number): string {
  if (os !== 'macOS' && os !== 'Linux') return `10.8${String(a)}.${String(b)}.1000`;
  if (kind === 'oldClient') return `101.${String(a % 98)}.${String(b % 100)}`;
  return `101.${String(23_000 + a)}.${String(b % 10_000).padStart(4, '0')}`;
}

function normalPlatform(rng: Random): string {
  const roll = rng.next();
  if (roll < 0.45) return 'Windows10';
  if (roll < 0.8) return 'Windows11';
  if (roll < 0.92) return rng.pick(['WindowsServer2016', 'WindowsServer2019', 'WindowsServer2022']);
  return roll < 0.96 ? 'Linux' : 'macOS';
}

/** The device as the API shows it: every field except the hidden `simulation` traits. */
export function machineView(machine: SimMachine): Record<string, unknown> {
  const view: Record<string, unknown> = { ...machine };
  delete view['simulation'];
  return view;
}
