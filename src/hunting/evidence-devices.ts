import { isMachineId } from '../defender/machine-id.js';
import type { HuntingResult } from './graph-client.js';

/** The devices some evidence names: each id once, in first-seen order, with their host names. */
export interface EvidenceDevices {
  ids: string[];
  /** machine id → `deviceDnsName` (incidents and alerts) or `DeviceName` (hunting), when given. */
  hostnames: Map<string, string>;
  /** Evidence that names no scannable device, by reason. */
  skipped: Record<string, number>;
}

/** Why evidence cannot become a target; the message says what to change. */
export class EvidenceError extends Error {
  override name = 'EvidenceError';
  /**
   * True when Graph failed for a reason the request does not explain (no permission, an
   * outage); false when the input was wrong (an unknown id, a query without devices).
   */
  readonly upstream: boolean;
  constructor(message: string, options?: ErrorOptions & { upstream?: boolean }) {
    super(message, options);
    this.upstream = options?.upstream ?? false;
  }
}

const DEVICE_EVIDENCE = '#microsoft.graph.security.deviceEvidence';

function collector() {
  const ids: string[] = [];
  const hostnames = new Map<string, string>();
  const skipped: Record<string, number> = {};
  const seen = new Set<string>();
  return {
    add(raw: unknown, name: unknown, missing: 'not-onboarded' | null) {
      if ((raw === null || raw === undefined || raw === '') && missing !== null) {
        skipped[missing] = (skipped[missing] ?? 0) + 1;
        return;
      }
      // Graph and hunting give lowercase ids; only A-F are folded, as for every other source.
      const id = typeof raw === 'string' ? raw.replace(/[A-F]/g, (c) => c.toLowerCase()) : '';
      if (!isMachineId(id)) {
        skipped['invalid-id'] = (skipped['invalid-id'] ?? 0) + 1;
        return;
      }
      if (seen.has(id)) return;
      seen.add(id);
      ids.push(id);
      if (typeof name === 'string' && name !== '') hostnames.set(id, name);
    },
    result: (): EvidenceDevices => ({ ids, hostnames, skipped }),
  };
}

/**
 * The devices of alerts (Graph `alert` v2): the `mdeDeviceId` of each `deviceEvidence`, each
 * device once however many alerts name it. Other evidence (files, processes, users, IPs) is
 * ignored even when it carries an `mdeDeviceId`; device evidence without one (a device never
 * onboarded to Defender for Endpoint) is counted as `not-onboarded`, a malformed id as `invalid-id`.
 */
export function devicesOfAlerts(alerts: readonly unknown[]): EvidenceDevices {
  const found = collector();
  for (const alert of alerts) {
    const evidence = (alert as { evidence?: unknown } | null)?.evidence;
    if (!Array.isArray(evidence)) continue;
    for (const item of evidence as unknown[]) {
      const e = item as Record<string, unknown> | null;
      if (e?.['@odata.type'] !== DEVICE_EVIDENCE) continue;
      found.add(e['mdeDeviceId'], e['deviceDnsName'], 'not-onboarded');
    }
  }
  return found.result();
}

/**
 * The devices of a hunting answer: the distinct `DeviceId`s of its rows. An answer without a
 * `DeviceId` column names no device and is refused; a row whose id is not a machine id is
 * counted as `invalid-id`.
 */
export function devicesOfHunting(result: HuntingResult): EvidenceDevices {
  const columns = result.schema.map((c) => c.name);
  if (!columns.includes('DeviceId')) {
    throw new EvidenceError(
      `The hunting query's result has no DeviceId column (columns: ${columns.join(', ') || 'none'}): ` +
        'keep DeviceId in its project, distinct or summarize, e.g. end it with `| distinct DeviceId`.',
    );
  }
  const found = collector();
  for (const row of result.results) found.add(row['DeviceId'], row['DeviceName'], null);
  return found.result();
}
