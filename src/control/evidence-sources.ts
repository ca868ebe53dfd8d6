import type { GraphClient } from '../hunting/graph-client.js';
import {
  devicesOfAlerts,
  devicesOfHunting,
  EvidenceError,
  type EvidenceDevices,
} from '../hunting/evidence-devices.js';
import { HuntingError } from '../hunting/hunting-error.js';
import { HUNTING_MAX_ROWS } from '../hunting/verify-campaign.js';
import type { ScanSource } from './start-campaign.js';

export { EvidenceError } from '../hunting/evidence-devices.js';

/** Devices from evidence: an advanced hunting query, a Defender XDR incident, or one alert. */
export type EvidenceTarget =
  | { kind: 'hunting'; query: string }
  | { kind: 'incident'; id: string }
  | { kind: 'alert'; id: string };

export interface EvidenceSourceDeps {
  graph: Pick<GraphClient, 'runHuntingQuery' | 'getIncident' | 'getAlert'>;
  /** Rows at which a hunting answer counts as cut (default `HUNTING_MAX_ROWS`). */
  maxRows?: number;
  /** Tries after transient failures; 429s wait in the hunting gate and cost none (as `verify`). */
  backoffTries?: number;
  sleep?: (ms: number) => Promise<void>;
}

const INCIDENT_ID = /^\d{1,19}$/;
const ALERT_ID = /^[A-Za-z0-9_-]{1,200}$/;
export const MAX_HUNTING_QUERY_CHARS = 40_000;

/** Checks a target before anything connects; the message names the option the way `where` says. */
export function checkEvidenceTarget(target: EvidenceTarget, where: string): EvidenceTarget {
  if (target.kind === 'incident' && !INCIDENT_ID.test(target.id))
    throw new EvidenceError(
      `${where} must be an incident's number as the Defender portal shows it (e.g. 4711), got ${JSON.stringify(target.id)}`,
    );
  if (target.kind === 'alert' && !ALERT_ID.test(target.id))
    throw new EvidenceError(
      `${where} must be an alert id such as da638000000000000001_-7919, got ${JSON.stringify(target.id.slice(0, 80))}`,
    );
  if (target.kind === 'hunting' && target.query.trim() === '')
    throw new EvidenceError(`${where} must be a KQL query, got an empty one`);
  if (target.kind === 'hunting' && target.query.length > MAX_HUNTING_QUERY_CHARS)
    throw new EvidenceError(
      `${where} is ${String(target.query.length)} characters; at most ${String(MAX_HUNTING_QUERY_CHARS)}`,
    );
  return target;
}

/** What the campaign records as its source: `incident:4711`, `alert:da…`, `hunting[120 rows]:<KQL>`. */
function describe(target: EvidenceTarget, rows: number): string {
  if (target.kind === 'hunting') return `hunting[${String(rows)} rows]:${target.query}`;
  return `${target.kind}:${target.id}`;
}

const PERMISSION: Record<EvidenceTarget['kind'], string> = {
  hunting: 'ThreatHunting.Read.All',
  incident: 'SecurityIncident.Read.All',
  alert: 'SecurityAlert.Read.All',
};

function subject(target: EvidenceTarget): string {
  if (target.kind === 'hunting') return 'The hunting query';
  return `${target.kind === 'incident' ? 'Incident' : 'Alert'} ${target.id}`;
}

/** A Graph failure as an operator reads it: what failed, and what to change. */
function explain(target: EvidenceTarget, error: HuntingError): EvidenceError {
  const detail = `Graph answered ${String(error.status)} ${error.code}${error.apiMessage ? `: ${error.apiMessage}` : ''}`;
  let message: string;
  if (error.status === 403)
    message =
      `${subject(target)} could not be read: ${detail}. Fix: add the Microsoft Graph application ` +
      `permission ${PERMISSION[target.kind]} to the app registration in Entra ID and grant admin ` +
      'consent (a ready GRAPH_ACCESS_TOKEN must carry it).';
  else if (error.status === 404 && target.kind !== 'hunting')
    message = `${subject(target)} does not exist in this tenant (${detail}); check the id in the Defender portal.`;
  else if (error.status === 400 && target.kind === 'hunting')
    message = `The hunting query was refused (${detail}); try it in the Defender portal's advanced hunting first.`;
  else message = `${subject(target)} could not be read: ${detail}.`;
  return new EvidenceError(`${message} Nothing was created.`, {
    cause: error,
    upstream: error.status !== 400 && error.status !== 404,
  });
}

async function withRetries<T>(
  deps: EvidenceSourceDeps,
  target: EvidenceTarget,
  ask: () => Promise<T>,
): Promise<T> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let failures = 0; ;) {
    try {
      return await ask();
    } catch (error) {
      if (!(error instanceof HuntingError)) throw error;
      // The gate is paused already: the next try waits there, so a 429 costs no try.
      if (error.retry === 'throttled') continue;
      failures += 1;
      if (error.retry !== 'backoff' || failures >= (deps.backoffTries ?? 3))
        throw explain(target, error);
      await sleep(500 * 2 ** failures);
    }
  }
}

async function readDevices(
  deps: EvidenceSourceDeps,
  target: EvidenceTarget,
): Promise<{ devices: EvidenceDevices; rows: number; what: string }> {
  if (target.kind === 'hunting') {
    const result = await withRetries(deps, target, () => deps.graph.runHuntingQuery(target.query));
    const maxRows = deps.maxRows ?? HUNTING_MAX_ROWS;
    if (result.results.length >= maxRows)
      throw new EvidenceError(
        `The hunting query returned ${String(result.results.length)} rows, advanced hunting's limit: the answer may be cut and devices missed. ` +
          'Make it return one row per device (end it with `| distinct DeviceId`) or narrow it. Nothing was created.',
      );
    const rows = result.results.length;
    return { devices: devicesOfHunting(result), rows, what: `${String(rows)} rows` };
  }
  if (target.kind === 'incident') {
    const incident = await withRetries(deps, target, () => deps.graph.getIncident(target.id));
    const alerts = Array.isArray(incident['alerts']) ? (incident['alerts'] as unknown[]) : [];
    return { devices: devicesOfAlerts(alerts), rows: 0, what: `${String(alerts.length)} alerts` };
  }
  const alert = await withRetries(deps, target, () => deps.graph.getAlert(target.id));
  return { devices: devicesOfAlerts([alert]), rows: 0, what: 'its evidence' };
}

/**
 * Reads the evidence now (one Graph call, under the hunting budget) and returns the devices as
 * a campaign's source, recorded as `incident:ID`, `alert:ID` or `hunting[N rows]:QUERY`. Every
 * refusal (no permission, unknown id, no DeviceId column, no device at all) throws an
 * `EvidenceError` before any campaign exists.
 */
export async function openEvidenceSource(
  deps: EvidenceSourceDeps,
  target: EvidenceTarget,
): Promise<ScanSource> {
  const { devices, rows, what } = await readDevices(deps, target);
  if (devices.ids.length === 0) {
    const skipped = Object.entries(devices.skipped).map(([reason, n]) => `${String(n)} ${reason}`);
    throw new EvidenceError(
      `${subject(target)} names no device to scan (${what}` +
        (skipped.length > 0 ? `; skipped: ${skipped.join(', ')}` : '') +
        '). Nothing was created.',
    );
  }
  let hostnames: Map<string, string> | undefined = devices.hostnames;
  const chunk = 1_000;
  return {
    description: describe(target, rows),
    chunks: (async function* () {
      await Promise.resolve();
      for (let i = 0; i < devices.ids.length; i += chunk) yield devices.ids.slice(i, i + chunk);
    })(),
    valid: () => devices.ids.length,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () => ({ ...devices.skipped }),
    // Every name at the first call: an incident or a hunting answer is in memory anyway.
    takeHostnames: () => {
      const taken = hostnames ?? new Map<string, string>();
      hostnames = undefined;
      return taken;
    },
  };
}
