import { basename } from 'node:path';
import { openEvidenceSource, type EvidenceSourceDeps } from '../control/evidence-sources.js';
import { fileScanSource, targetScanSource } from '../control/scan-sources.js';
import type { ScanSource } from '../control/start-campaign.js';
import { readDeviceFile } from '../producer/sources/read-device-file.js';
import { resolveTargets, type MachineLister } from '../producer/sources/resolve-targets.js';
import type { ScheduleTargets } from './schedule.js';
import { describeTargetsOf } from './describe-targets.js';

/**
 * A fire's devices, resolved now: the device file is read again, tags/group/query/all go through
 * List Machines (the tenant's client, under its shared budget) with the same skip rules as `scan`,
 * a hunting query runs again through the tenant's Graph client (`graph`).
 */
export async function openScheduleSource(
  targets: ScheduleTargets,
  lister: () => MachineLister,
  graph?: () => EvidenceSourceDeps['graph'],
): Promise<ScanSource> {
  if (targets.hunting !== undefined) {
    if (!graph) throw new Error('This process has no Graph client for a hunting schedule.');
    return openEvidenceSource({ graph: graph() }, { kind: 'hunting', query: targets.hunting });
  }
  if (targets.devices !== null) {
    const source = await readDeviceFile(targets.devices, { column: targets.column ?? undefined });
    return fileScanSource(source, `file:${basename(targets.devices)}`);
  }
  const resolved = resolveTargets(lister(), {
    query: targets.query ?? undefined,
    tags: targets.tags,
    group: targets.group ?? undefined,
    includeInactive: targets.includeInactive,
  });
  return targetScanSource(resolved, describeTargetsOf(targets));
}
