import type { Machine } from '../../defender/machine-action.js';
import { toMachineId } from './device-id.js';
import { TargetQueryError } from './errors.js';
import { buildTargetFilter, type TargetFilterOptions } from './target-filter.js';
import { canRunAntivirusScan, clientTooOldForScan } from './scan-platforms.js';

/** All the targeting needs from the Defender client, so tests can pass a fake. */
export interface MachineLister {
  listMachines(filter?: string): AsyncIterable<Machine>;
}

/** Why a listed device is not targeted, checked in this order (one reason per device). */
export const SKIP_REASONS = [
  'invalid-id',
  'merged',
  'excluded',
  'duplicate',
  'not-onboarded',
  'unsupported-platform',
  'unsupported-client-version',
  'inactive',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface ResolveTargetsOptions extends TargetFilterOptions {
  /** `rbacGroupName`, matched case-insensitively here (the API cannot filter on it). */
  group?: string | undefined;
  /** Keep devices whose healthStatus is Inactive (every other skip rule still applies). */
  includeInactive?: boolean | undefined;
  /** Ids per yielded chunk (default 1000). */
  chunkSize?: number | undefined;
}

/**
 * Counts of one resolution, complete once `chunks` is read to the end.
 * `matched = selected + Σ skipped`; devices outside `group` are in `listed` only.
 */
export interface TargetsReport {
  filter: string | undefined;
  listed: number;
  matched: number;
  selected: number;
  skipped: Record<SkipReason, number>;
}

export interface TargetsSource {
  report: TargetsReport;
  chunks: AsyncIterable<string[]>;
  /** `computerDnsName` of the ids yielded since the last call (drained by each call). */
  takeHostnames(): Map<string, string>;
}

/**
 * Resolves `--query`/`--tag`/`--group` through List Machines into chunks of normalised ids,
 * skipping (and counting by reason) devices a scan cannot usefully reach. Option errors throw
 * `TargetQueryError` at once; the listing itself starts when `chunks` is read.
 */
export function resolveTargets(
  client: MachineLister,
  options: ResolveTargetsOptions,
): TargetsSource {
  const filter = buildTargetFilter(options);
  const group = options.group?.trim().toLowerCase();
  if (group === '') throw new TargetQueryError('--group', 'empty group name');
  const includeInactive = options.includeInactive === true;
  const chunkSize = options.chunkSize ?? 1000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be ≥ 1');
  const skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  const report: TargetsReport = { filter, listed: 0, matched: 0, selected: 0, skipped };

  let hostnames = new Map<string, string>();
  async function* chunks(): AsyncGenerator<string[]> {
    let chunk: string[] = [];
    for await (const machine of client.listMachines(filter)) {
      report.listed += 1;
      if (group !== undefined && machine.rbacGroupName?.trim().toLowerCase() !== group) continue;
      report.matched += 1;
      const id = toMachineId(machine.id);
      const reason = id === undefined ? 'invalid-id' : skipReason(machine, includeInactive);
      if (id === undefined || reason !== undefined) {
        skipped[reason ?? 'invalid-id'] += 1;
        continue;
      }
      report.selected += 1;
      chunk.push(id);
      if (machine.computerDnsName) hostnames.set(id, machine.computerDnsName);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }
  const takeHostnames = () => {
    const taken = hostnames;
    hostnames = new Map();
    return taken;
  };
  return { report, chunks: chunks(), takeHostnames };
}

function same(value: string | null | undefined, expected: string): boolean {
  return value?.toLowerCase() === expected.toLowerCase();
}

/**
 * The first reason to skip `machine` (after `invalid-id`, which the caller checks), or
 * `undefined` to target it: only what cannot take the action. A health or onboarding status the
 * API left out is not evidence of a problem: only explicit values skip. Of the health states only
 * `Inactive` (not seen for 7 days: the scan would sit pending) skips; `ImpairedCommunication`,
 * `NoSensorData` and `NoSensorDataImpairedCommunication` devices still take commands (XSOAR's
 * Defender integration maps them to Online, demisto/content `HEALTH_STATUS_TO_ENDPOINT_STATUS`).
 */
export function skipReason(
  machine: Machine,
  includeInactive: boolean,
): Exclude<SkipReason, 'invalid-id'> | undefined {
  if (machine.mergedIntoMachineId) return 'merged';
  if (machine.isExcluded === true) return 'excluded';
  if (machine.isPotentialDuplication === true) return 'duplicate';
  const onboarding = machine.onboardingStatus;
  if (onboarding != null && !same(onboarding, 'Onboarded')) return 'not-onboarded';
  if (!canRunAntivirusScan(machine.osPlatform)) return 'unsupported-platform';
  if (clientTooOldForScan(machine.osPlatform, machine.agentVersion))
    return 'unsupported-client-version';
  if (!includeInactive && same(machine.healthStatus, 'Inactive')) return 'inactive';
  return undefined;
}
