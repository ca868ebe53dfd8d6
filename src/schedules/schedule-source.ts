import { basename } from 'node:path';
import type { ScanSource } from '../control/start-campaign.js';
import { readDeviceFile } from '../producer/sources/read-device-file.js';
import { resolveTargets, type MachineLister } from '../producer/sources/resolve-targets.js';
import type { ScheduleTargets } from './schedule.js';
import { describeTargetsOf } from './describe-targets.js';

/**
 * A fire's devices, resolved now: the device file is read again, tags/group/query/all go through
 * List Machines (the tenant's client, under its shared budget) with the same skip rules as `scan`.
 */
export async function openScheduleSource(
  targets: ScheduleTargets,
  lister: () => MachineLister,
): Promise<ScanSource> {
  if (targets.devices !== null) {
    const source = await readDeviceFile(targets.devices, { column: targets.column ?? undefined });
    return {
      description: `file:${basename(targets.devices)}`,
      chunks: source.chunks,
      valid: () => source.report.valid,
      invalid: () => ({ count: source.report.invalidCount, lines: source.report.invalid }),
      skipped: () => ({}),
    };
  }
  const resolved = resolveTargets(lister(), {
    query: targets.query ?? undefined,
    tags: targets.tags,
    group: targets.group ?? undefined,
    includeInactive: targets.includeInactive,
  });
  return {
    description: describeTargetsOf(targets),
    chunks: resolved.chunks,
    valid: () => resolved.report.selected,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () =>
      Object.fromEntries(Object.entries(resolved.report.skipped).filter(([, n]) => n > 0)),
  };
}
