import { openEvidenceSource, type EvidenceSourceDeps } from '../control/evidence-sources.js';
import { openDeviceSource } from '../control/scan-sources.js';
import type { ScanSource } from '../control/start-campaign.js';
import type { MachineLister } from '../producer/sources/resolve-targets.js';
import type { ScheduleTargets } from './schedule.js';

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
  return openDeviceSource(targets, lister);
}
