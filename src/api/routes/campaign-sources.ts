import { listScanSource } from '../../control/scan-sources.js';
import type { ScanSource } from '../../control/start-campaign.js';
import { isMachineId } from '../../defender/machine-id.js';
import { renderValue } from '../../producer/sources/device-id.js';
import {
  checkEvidenceTarget,
  EvidenceError,
  openEvidenceSource,
  type EvidenceTarget,
} from '../../control/evidence-sources.js';
import type { ApiDeps } from '../api-deps.js';
import type { CreateCampaignInput } from '../campaign-schemas.js';
import { createPause, type Pause } from '../bounded-json.js';
import { ApiProblem } from '../problem.js';

const CHUNK = 1_000;

/**
 * Device ids from a request body, all checked before anything happens: one that is not exactly a
 * machine id (40 hex; only ASCII A-F are lowercased, nothing is trimmed) refuses the whole request,
 * naming the first ones by position. Stricter than device files, on purpose: a playbook that
 * sends garbage has a bug, and a campaign of the rest would hide it.
 */
export async function checkDeviceIds(
  raw: readonly string[],
  pause: Pause = createPause(),
): Promise<ScanSource> {
  const ids: string[] = [];
  const invalid: { where: string; message: string }[] = [];
  let invalidCount = 0;
  // 400,000 ids take hundreds of ms on a busy host: checked in slices, yielding in between.
  for (const [index, value] of raw.entries()) {
    if (index % 256 === 255) await pause();
    const id = value.replace(/[A-F]/g, (c) => c.toLowerCase());
    if (isMachineId(id)) ids.push(id);
    else {
      invalidCount += 1;
      if (invalid.length < 20) {
        invalid.push({
          where: `body.devices[${String(index)}]`,
          message: `not a machine id: ${renderValue(value)}`,
        });
      }
    }
  }
  if (invalidCount > 0) {
    throw new ApiProblem(
      'invalid-devices',
      `${String(invalidCount)} of ${String(raw.length)} device ids are not machine ids (40 hex characters); nothing was created.`,
      { errors: invalid, invalidCount },
    );
  }
  return listScanSource(ids, `api:${String(ids.length)} devices`, CHUNK);
}

/** The evidence a body names (`hunting`, `incident` or `alert`), if any. */
export function evidenceTargetOf(body: CreateCampaignInput): EvidenceTarget | undefined {
  if (body.hunting !== undefined) return { kind: 'hunting', query: body.hunting };
  if (body.incident !== undefined) return { kind: 'incident', id: body.incident };
  if (body.alert !== undefined) return { kind: 'alert', id: body.alert };
  return undefined;
}

/**
 * Devices from evidence, read through the tenant's Graph client before anything is created, as
 * `fleetscan scan --hunting/--incident/--alert`. Wrong input is a 400; Graph refusing the app (no
 * permission) or failing is a 502 whose message names the fix.
 */
export async function evidenceSource(
  deps: Pick<ApiDeps, 'graph'>,
  tenant: string,
  target: EvidenceTarget,
): Promise<ScanSource> {
  if (!deps.graph)
    throw new ApiProblem(
      'not-configured',
      'This deployment has no Graph client for evidence sources.',
    );
  try {
    checkEvidenceTarget(target, `body.${target.kind}`);
    return await openEvidenceSource({ graph: deps.graph(tenant) }, target);
  } catch (error) {
    if (error instanceof EvidenceError)
      throw new ApiProblem(error.upstream ? 'upstream-failed' : 'invalid-request', error.message);
    throw error;
  }
}
