import type { RateWindow } from '../../config/duration.js';
import { DEFAULT_RATE_LIMITS } from '../../simulator/options.js';

/** A plain-HTTP simulator hands out a ready token this long (MSAL signs in only over HTTPS). */
export const PLAIN_HTTP_TOKEN_LIFETIME_SEC = 12 * 3600;

/**
 * The busy-device timing of config/default.yaml (`scan.pendingRetry`, `pendingRetryCap`,
 * `pendingMaxWait`), which a compressed simulator's settings divide like its windows.
 */
export const REAL_PENDING_TIMING = [
  ['FLEETSCAN_PENDING_RETRY', 5 * 60_000],
  ['FLEETSCAN_PENDING_RETRY_CAP', 30 * 60_000],
  ['FLEETSCAN_PENDING_MAX_WAIT', 24 * 3_600_000],
] as const;

export interface SimulatorEnvironmentInput {
  url: string;
  tls: boolean;
  caFile?: string | undefined;
  credentials: { tenantId: string; clientId: string; clientSecret: string };
  /** Only asked for without TLS: a bearer token for MDE_ACCESS_TOKEN. */
  issueToken: () => string;
  /** Only asked for without TLS: a Graph token for GRAPH_ACCESS_TOKEN (`verify`). */
  issueGraphToken: () => string;
  timeScale: number;
  /** `--rate-limits` before scaling, when given. */
  rateLimits?: readonly RateWindow[] | undefined;
}

/**
 * The environment that makes fleetscan work against this simulator, and a note saying why.
 * - Over HTTPS, client-secret sign-in through MSAL, as against Entra.
 * - Over plain HTTP MSAL refuses the authority, so ready tokens instead (never refreshed).
 * - Graph (`verify`) at the simulator as well, which answers advanced hunting.
 * - With a time scale or other limits, the matching `FLEETSCAN_RATE_LIMITS`: without it the
 *   workers keep to real-time windows and run `timeScale` times slower than the simulator allows.
 * - With a time scale, the busy-device retry timing divided by it: otherwise a busy device of a
 *   compressed trial still waits 5 real minutes for its retry.
 */
export function simulatorEnvironment(input: SimulatorEnvironmentInput): {
  env: string[];
  notes: string[];
} {
  const { url, credentials } = input;
  // The simulator serves Graph's runHuntingQuery too: without GRAPH_API_URL `verify` and
  // `doctor` would go to the real graph.microsoft.com.
  const env = [`MDE_API_URL=${url}`, `GRAPH_API_URL=${url}`];
  const notes: string[] = [];
  if (input.tls) {
    env.push(
      `MDE_AUTHORITY_HOST=${url}`,
      `MDE_TENANT_ID=${credentials.tenantId}`,
      `MDE_CLIENT_ID=${credentials.clientId}`,
      `MDE_CLIENT_SECRET=${credentials.clientSecret}`,
      ...(input.caFile ? [`NODE_EXTRA_CA_CERTS=${input.caFile}`] : []),
    );
  } else {
    env.push(
      `MDE_ACCESS_TOKEN=${input.issueToken()}`,
      `GRAPH_ACCESS_TOKEN=${input.issueGraphToken()}`,
    );
    notes.push(
      `plain HTTP: MSAL signs in only over HTTPS, so this is a ready token valid ` +
        `${String(PLAIN_HTTP_TOKEN_LIFETIME_SEC / 3600)} h; add --tls for client-secret sign-in`,
    );
  }
  if (input.timeScale !== 1 || input.rateLimits !== undefined) {
    const windows = (input.rateLimits ?? DEFAULT_RATE_LIMITS)
      .map((w) => `${String(w.cap)}/${String(Math.ceil(w.windowMs / input.timeScale))}ms`)
      .join(',');
    env.push(`FLEETSCAN_RATE_LIMITS=${windows}`);
    notes.push(
      `FLEETSCAN_RATE_LIMITS matches the simulator's windows at time ×${String(input.timeScale)}`,
    );
  }
  if (input.timeScale !== 1) {
    for (const [name, ms] of REAL_PENDING_TIMING)
      env.push(`${name}=${String(Math.max(1, Math.ceil(ms / input.timeScale)))}ms`);
    notes.push(`busy devices are retried on the same clock (FLEETSCAN_PENDING_*)`);
  }
  return { env, notes };
}

/**
 * What `simulate` prints once listening: where, then one `export NAME=value` line per setting, so
 * the block can be pasted into a shell (or `eval`ed), and the notes as `#` comments.
 */
export function formatSimulatorBanner(
  url: string,
  devices: number,
  environment: { env: readonly string[]; notes: readonly string[] },
): string {
  return [
    `simulator listening on ${url} (${String(devices)} devices); to point fleetscan at it:`,
    ...environment.env.map((entry) => `export ${shellQuoted(entry)}`),
    ...environment.notes.map((note) => `# ${note}`),
    '',
  ].join('\n');
}

/** `NAME=value`, the value single-quoted when the shell would otherwise split or expand it. */
function shellQuoted(entry: string): string {
  const eq = entry.indexOf('=');
  const value = entry.slice(eq + 1);
  if (/^[\w@%+=:,./-]*$/.test(value)) return entry;
  return `${entry.slice(0, eq)}='${value.replace(/'/g, `'\\''`)}'`;
}
