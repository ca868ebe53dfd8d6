import type { DetectionOptions } from './detections.js';
import type { FileObservationInput } from './file-events.js';
import type { FleetMix } from './fleet.js';
import type { IncidentInput } from './security-incidents.js';
import type { Lifecycle } from './machine-actions.js';
import type { MachineInput } from './machine-file.js';
import { checkConsumerSchedule, type OtherConsumerOptions } from './other-consumer.js';
import type { RateWindow } from './throttle.js';

/** How a lost reply is lost: the socket is destroyed, or the reply becomes a 502. */
export type LostMode = 'mixed' | 'destroy' | '502';

/** Whether the endpoint families of an app+tenant have their own rate windows or share one set. */
export type BudgetScope = 'family' | 'shared';

/** Which legs of a call the latency jitter delays. */
export type LatencyLegs = 'both' | 'reply';

/** Everything `buildSimulator` accepts; every field has a sane default (see `resolveOptions`). */
export interface SimulatorOptions {
  /** Seed for the fleet, faults, lost replies and latency jitter (default 1). */
  seed?: number;
  /** Number of devices to generate (default 200), unless `machines` is given. */
  fleet?: number;
  /** Shares of special devices in a generated fleet. */
  fleetMix?: Partial<FleetMix>;
  /** An explicit device list instead of a generated fleet. */
  machines?: readonly MachineInput[];
  /** 1 = real time; rate windows and action lifecycles are divided by it (default 1). */
  timeScale?: number;
  /** Windows per endpoint family per app+tenant, before scaling (default 100/60 s and 1500/3600 s). */
  rateLimits?: readonly RateWindow[];
  /**
   * `family` (default, issue 3): each endpoint family (scan, machineActions, cancel, machines) has
   * its own windows per app+tenant. `shared`: one set of windows for every family of an app+tenant,
   * the stricter reading of mde-api.md, which leaves open whether the endpoints share a budget.
   */
  budgetScope?: BudgetScope;
  /** Share of authorised, unthrottled calls that answer a 5xx before anything happens. */
  faultRate?: number;
  /** Share of handled calls whose reply is lost after the work was done (the action exists). */
  lostRate?: number;
  lostMode?: LostMode;
  /** Network latency jitter [min, max] in ms per call (real time, not scaled). */
  latencyMs?: readonly [number, number];
  /**
   * Where the latency falls: `both` (default) splits each call's latency at random between the
   * request leg (before the call arrives and is counted) and the reply leg, as a real network
   * does, so arrivals drift away from send times; `reply` delays only replies.
   */
  latencyLegs?: LatencyLegs;
  /** Share of busy-device answers that are 201 with the existing action instead of 400. */
  existingActionRate?: number;
  /** Share of scans on reachable devices that end Failed instead of Succeeded (default 0). */
  actionFailureRate?: number;
  /**
   * What devices report in `DeviceEvents` after a scan action Succeeded (delivered): shares of
   * completed, cancelled and failed scans (the rest never report) and the delay range (real ms,
   * before scaling) from Succeeded to the event. Default 0.85 / 0.04 / 0.03, 2-30 min.
   */
  evidence?: Partial<EvidenceOptions>;
  /**
   * The hunting CPU quota, as a number of queries per tenant per 15-minute cycle (scaled); past
   * it, queries answer 429 without Retry-After until the next cycle. Default: no quota.
   */
  huntingCpuQuota?: number;
  /** Graph `runHuntingQuery` windows per tenant, before scaling (default 45/60 s). */
  huntingRateLimits?: readonly RateWindow[];
  /**
   * Rows one hunting answer may hold; more are cut without a word (default 100,000, Microsoft
   * Learn "Microsoft Defender XDR advanced hunting API": "Results can return up to 100,000 rows").
   */
  huntingMaxRows?: number;
  /**
   * Notional execution time of a hunting query per device id it names (ms, not scaled; default
   * 0). A query past `huntingTimeoutMs` answers 400 (same page: a request that runs for more
   * than three minutes times out and returns an error).
   */
  huntingMsPerDevice?: number;
  /** Execution-time limit of one hunting query (ms, not scaled; default 180,000). */
  huntingTimeoutMs?: number;
  /**
   * Whether a hunting call-count 429 carries Retry-After (default true). Graph does not promise
   * it; false plays the stricter case, where only the body tells the call-count limit from the CPU one.
   */
  huntingRetryAfter?: boolean;
  /**
   * Scheduled scans unrelated to any campaign, reported in `DeviceEvents` like requested ones:
   * the share of devices that run them (default 0), how often (sim ms, not scaled; default 24 h)
   * and the share that are Full rather than Quick (default 0.3).
   */
  scheduledScans?: Partial<ScheduledScanOptions>;
  /**
   * What Defender Antivirus detects (`AntivirusDetection` in `DeviceEvents`, alerts in
   * `AlertEvidence`): see `DetectionOptions` for each share and its default.
   */
  detections?: Partial<DetectionOptions>;
  /** Action step durations in real-time ms, before scaling. */
  lifecycle?: Partial<Lifecycle>;
  /** Lifetime of issued access tokens, seconds (default 3599; not scaled). */
  tokenLifetimeSec?: number;
  tenantId?: string;
  clientId?: string;
  /** Accepted client secret; an empty string turns secrets off (certificate only). */
  clientSecret?: string;
  /** Public certificate(s) whose private key may sign client assertions. */
  certificatePem?: string | readonly string[];
  /** Scopes a token may be asked for; default: `<resource>/.default` for the MDE resources of every cloud. */
  acceptedScopes?: readonly string[];
  /**
   * List MachineActions with no results answers 404 instead of 200 with an empty `value` (default
   * false; unknown for the real API). List Machines always answers 404 when nothing matches.
   */
  emptyListAs404?: boolean;
  /**
   * Page size of a list asked without `$top`, whose pages carry (nameless) nextLinks (default
   * 10000, the real size; smaller only for tests).
   */
  defaultPageSize?: number;
  /** NDJSON file that receives one line per call (appended). */
  callLogFile?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** The simulator's clock (ms since the epoch); default: monotonic wall time. */
  now?: () => number;
  /** Application permissions (`roles`) in app tokens; `[]` = an app granted none (default: all). */
  appRoles?: readonly string[];
  /** Users who may sign in with a device code (delegated tokens); default none. */
  users?: readonly SimUserInput[];
  /** Whether the app registration allows public client flows (default true); false = AADSTS7000218. */
  publicClient?: boolean;
  /**
   * Redirect URIs registered for the authorization code flow (sign-in to a web app); default:
   * `http://127.0.0.1/signin/callback` and `http://localhost/signin/callback`. As in Entra, the
   * port of a loopback URI is not compared.
   */
  redirectUris?: readonly string[];
  /** Lifetime of a device code, seconds (default 900, as Entra). */
  deviceCodeLifetimeSec?: number;
  /** Polling interval a device code asks for, seconds (default 5, as Entra). */
  deviceCodeIntervalSec?: number;
  /**
   * Another consumer of the same app+tenant's budget, invisible to clients (issue 17): calls on
   * a schedule (API time, scaled by `timeScale`) counted in the same windows. With `rateLimits`
   * below the documented caps, the real budget is smaller than what a client is configured for.
   */
  otherConsumer?: OtherConsumerOptions;
  /**
   * Defender XDR incidents with their alerts and evidence, served by Graph's
   * `/security/incidents/{id}` and `/security/alerts_v2/{id}` (more can be added later with
   * `sim.security.addIncident` / `addAlert`). Devices are fleet indexes or machine ids.
   */
  incidents?: readonly IncidentInput[];
  /** Files seen on devices, the `DeviceFileEvents` table of advanced hunting. */
  fileObservations?: readonly FileObservationInput[];
}

/** A user of the simulated tenant, for the device-code flow. */
export interface SimUserInput {
  /** UPN, e.g. `responder@contoso.example`. */
  username: string;
  /** Delegated permissions granted to the app for this user (default Machine.Scan, Machine.Read.All). */
  scopes?: readonly string[];
  /** Directory role template ids (`wids`), e.g. Security Operator. */
  wids?: readonly string[];
  /** Device groups (rbacGroupName) the user reaches; undefined = every device. */
  deviceGroups?: readonly string[];
  /** Holds Defender's "Active remediation actions" role (default true). */
  remediation?: boolean;
  /** Shown as `name` in the ID token and on the sign-in page (default: the UPN). */
  displayName?: string;
  /** App roles assigned on the app registration (`roles` in the ID token), e.g. FleetScan.Operator. */
  appRoles?: readonly string[];
  /** Group object ids (`groups` in the ID token; above 200 only the overage indicator). */
  groups?: readonly string[];
}

export interface EvidenceOptions {
  completedRate: number;
  cancelledRate: number;
  failedRate: number;
  delayMs: readonly [number, number];
}

export interface ScheduledScanOptions {
  share: number;
  everyMs: number;
  fullShare: number;
}

export interface ResolvedOptions {
  evidence: EvidenceOptions;
  detections: DetectionOptions;
  scheduledScans: ScheduledScanOptions;
  huntingMaxRows: number;
  huntingMsPerDevice: number;
  huntingTimeoutMs: number;
  huntingRetryAfter: boolean;
  huntingRateLimits: RateWindow[];
  huntingCpuQuota: number;
  /** The CPU quota cycle, scaled. */
  huntingCycleMs: number;
  seed: number;
  timeScale: number;
  rateLimits: RateWindow[];
  budgetScope: BudgetScope;
  faultRate: number;
  lostRate: number;
  lostMode: LostMode;
  latencyMs: readonly [number, number];
  latencyLegs: LatencyLegs;
  existingActionRate: number;
  actionFailureRate: number;
  lifecycle: Lifecycle;
  tokenLifetimeSec: number;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  emptyListAs404: boolean;
  defaultPageSize: number;
  publicClient: boolean;
  redirectUris: readonly string[];
  deviceCodeLifetimeSec: number;
  deviceCodeIntervalSec: number;
}

export const DEFAULT_TENANT_ID = '7a1b3c5d-0f00-4e11-9d22-5ea7c0ffee01';
export const DEFAULT_CLIENT_ID = '3c9e2f10-5b7a-4d6e-8f01-f1ee75ca4a11';
export const DEFAULT_CLIENT_SECRET = 'simulator-secret-not-for-production';
export const DEFAULT_RATE_LIMITS: readonly RateWindow[] = [
  { cap: 100, windowMs: 60_000 },
  { cap: 1500, windowMs: 3_600_000 },
];
export const DEFAULT_LIFECYCLE: Lifecycle = {
  pendingMs: 5_000,
  inProgressMs: 20_000,
  offlineTimeoutMs: 30 * 60_000,
  otherScanMs: 10 * 60_000,
};

/** Fills defaults, scales durations and refuses nonsense with a message naming the option. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error('`timeScale` must be > 0');
  for (const key of ['faultRate', 'lostRate', 'existingActionRate', 'actionFailureRate'] as const) {
    const value = options[key] ?? 0;
    if (!(value >= 0 && value <= 1)) throw new Error(`\`${key}\` must be between 0 and 1`);
  }
  const latency = options.latencyMs ?? [0, 0];
  if (!(latency[0] >= 0 && latency[1] >= latency[0]))
    throw new Error('`latencyMs` must be [min, max] with 0 ≤ min ≤ max');
  const lifecycle = { ...DEFAULT_LIFECYCLE, ...options.lifecycle };
  if (options.otherConsumer) checkConsumerSchedule(options.otherConsumer.schedule);
  const pageSize = options.defaultPageSize ?? 10_000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
    throw new Error('`defaultPageSize` must be an integer from 1 to 10000');
  }
  const evidence = {
    completedRate: 0.85,
    cancelledRate: 0.04,
    failedRate: 0.03,
    delayMs: [120_000, 1_800_000] as const,
    ...options.evidence,
  };
  const shares = evidence.completedRate + evidence.cancelledRate + evidence.failedRate;
  if (
    ![evidence.completedRate, evidence.cancelledRate, evidence.failedRate].every((r) => r >= 0) ||
    shares > 1
  ) {
    throw new Error('`evidence` rates must be ≥ 0 and add up to at most 1');
  }
  if (!(evidence.delayMs[0] >= 0 && evidence.delayMs[1] >= evidence.delayMs[0]))
    throw new Error('`evidence.delayMs` must be [min, max] with 0 ≤ min ≤ max');
  const scheduledScans = {
    share: 0,
    everyMs: 86_400_000,
    fullShare: 0.3,
    ...options.scheduledScans,
  };
  if (
    !(scheduledScans.share >= 0 && scheduledScans.share <= 1) ||
    !(scheduledScans.fullShare >= 0 && scheduledScans.fullShare <= 1) ||
    !(scheduledScans.everyMs >= 1)
  )
    throw new Error('`scheduledScans`: share and fullShare in [0, 1], everyMs ≥ 1');
  const detections = resolveDetections(options.detections ?? {}, timeScale);
  const huntingMaxRows = options.huntingMaxRows ?? 100_000;
  if (!Number.isInteger(huntingMaxRows) || huntingMaxRows < 1)
    throw new Error('`huntingMaxRows` must be an integer ≥ 1');
  return {
    scheduledScans,
    detections,
    huntingMaxRows,
    huntingMsPerDevice: options.huntingMsPerDevice ?? 0,
    huntingTimeoutMs: options.huntingTimeoutMs ?? 180_000,
    huntingRetryAfter: options.huntingRetryAfter ?? true,
    evidence: {
      ...evidence,
      delayMs: [evidence.delayMs[0] / timeScale, evidence.delayMs[1] / timeScale] as const,
    },
    huntingRateLimits: (options.huntingRateLimits ?? [{ cap: 45, windowMs: 60_000 }]).map((w) => ({
      cap: w.cap,
      windowMs: w.windowMs / timeScale,
    })),
    huntingCpuQuota: options.huntingCpuQuota ?? Infinity,
    huntingCycleMs: (15 * 60_000) / timeScale,
    seed: options.seed ?? 1,
    timeScale,
    rateLimits: (options.rateLimits ?? DEFAULT_RATE_LIMITS).map((w) => ({
      cap: w.cap,
      windowMs: w.windowMs / timeScale,
    })),
    budgetScope: options.budgetScope ?? 'family',
    faultRate: options.faultRate ?? 0,
    lostRate: options.lostRate ?? 0,
    lostMode: options.lostMode ?? 'mixed',
    latencyMs: latency,
    latencyLegs: options.latencyLegs ?? 'both',
    existingActionRate: options.existingActionRate ?? 0,
    actionFailureRate: options.actionFailureRate ?? 0,
    lifecycle: {
      pendingMs: lifecycle.pendingMs / timeScale,
      inProgressMs: lifecycle.inProgressMs / timeScale,
      offlineTimeoutMs: lifecycle.offlineTimeoutMs / timeScale,
      otherScanMs: lifecycle.otherScanMs / timeScale,
    },
    tokenLifetimeSec: options.tokenLifetimeSec ?? 3599,
    tenantId: options.tenantId ?? DEFAULT_TENANT_ID,
    clientId: options.clientId ?? DEFAULT_CLIENT_ID,
    clientSecret: options.clientSecret ?? DEFAULT_CLIENT_SECRET,
    emptyListAs404: options.emptyListAs404 ?? false,
    defaultPageSize: pageSize,
    publicClient: options.publicClient ?? true,
    redirectUris: options.redirectUris ?? [
      'http://127.0.0.1/signin/callback',
      'http://localhost/signin/callback',
    ],
    deviceCodeLifetimeSec: options.deviceCodeLifetimeSec ?? 900,
    deviceCodeIntervalSec: options.deviceCodeIntervalSec ?? 5,
  };
}

/** Detection shares in [0, 1], a positive count per scan, the quiet time scaled. */
function resolveDetections(input: Partial<DetectionOptions>, timeScale: number): DetectionOptions {
  const d: DetectionOptions = {
    share: 0.1,
    maxPerScan: 3,
    remediatedShare: 0.6,
    alertShare: 0.7,
    noiseShare: 0.2,
    quietMs: 2 * 3_600_000,
    ...input,
  };
  for (const key of ['share', 'remediatedShare', 'alertShare', 'noiseShare'] as const) {
    if (!(d[key] >= 0 && d[key] <= 1))
      throw new Error(`\`detections.${key}\` must be between 0 and 1`);
  }
  if (!Number.isInteger(d.maxPerScan) || d.maxPerScan < 1)
    throw new Error('`detections.maxPerScan` must be an integer ≥ 1');
  if (!(d.quietMs >= 0)) throw new Error('`detections.quietMs` must be ≥ 0');
  return { ...d, quietMs: d.quietMs / timeScale };
}
