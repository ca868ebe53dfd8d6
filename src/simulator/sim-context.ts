import type { AccessTokens } from './access-tokens.js';
import type { ApiFamily, CallFamily, CallLog, CallRecord } from './call-log.js';
import type { TrustedCertificate } from './client-assertion.js';
import type { SimMachine } from './fleet.js';
import type { DelegatedState } from './delegated-state.js';
import type { FileEventRow } from './file-events.js';
import type { ActionStore } from './machine-actions.js';
import type { SecurityStore } from './security-incidents.js';
import type { ResolvedOptions } from './options.js';
import type { Random } from './random.js';
import type { SignInState } from './signin-state.js';
import type { SlidingWindowThrottle } from './throttle.js';

/** Counters readable by tests and the benchmark (`sim.stats()`). */
export interface SimulatorStats {
  /** API calls that arrived (every family, every status, 401s and 429s included). */
  calls: number;
  byFamily: Record<ApiFamily, number>;
  /** API calls by the status the caller saw (`0` = no reply at all). */
  byStatus: Record<string, number>;
  /** 429 answers. */
  throttled: number;
  /** 401 answers. */
  unauthorized: number;
  /** Actions created through the API (including those whose reply was lost). */
  actionsCreated: number;
  /** 201 answers that handed back an existing action of a busy device. */
  existingActionReplies: number;
  lostReplies: number;
  /** 5xx answered before anything happened. */
  faults: number;
  tokenRequests: number;
  tokensIssued: number;
  /** Graph `runHuntingQuery` calls (not in `calls`: another API with its own budget). */
  hunting: { calls: number; throttled: number; badRequests: number };
}

/** The mutable state every route of one simulator shares. */
export interface SimContext {
  opts: ResolvedOptions;
  now: () => number;
  /** Separate streams so that turning one knob never reshuffles another. */
  random: {
    faults: Random;
    lost: Random;
    latency: Random;
    latencySplit: Random;
    busy: Random;
    ids: Random;
    outcome: Random;
    evidence: Random;
  };
  machines: ReadonlyMap<string, SimMachine>;
  machineList: readonly SimMachine[];
  actions: ActionStore;
  tokens: AccessTokens;
  throttle: SlidingWindowThrottle;
  /** Graph advanced hunting's own budget, per tenant. */
  huntingThrottle: SlidingWindowThrottle;
  certificates: readonly TrustedCertificate[];
  /** `undefined`: the MDE resources of every cloud (`MDE_RESOURCES`). */
  acceptedScopes: readonly string[] | undefined;
  log: CallLog;
  stats: SimulatorStats;
  /** Users, device codes and refresh tokens of delegated sign-in. */
  delegated: DelegatedState;
  /** Graph's security incidents and alerts with their evidence. */
  security: SecurityStore;
  /** `DeviceFileEvents` rows of advanced hunting (`fileObservations`). */
  fileEvents: readonly FileEventRow[];
  /** Web sign-in (authorization code + PKCE): flows, codes and the ID token key. */
  signIn: SignInState;
}

export function emptyStats(): SimulatorStats {
  return {
    calls: 0,
    byFamily: { scan: 0, machineActions: 0, cancel: 0, machines: 0 },
    byStatus: {},
    throttled: 0,
    unauthorized: 0,
    actionsCreated: 0,
    existingActionReplies: 0,
    lostReplies: 0,
    faults: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    hunting: { calls: 0, throttled: 0, badRequests: 0 },
  };
}

const API_FAMILY_SET: ReadonlySet<CallFamily> = new Set([
  'scan',
  'machineActions',
  'cancel',
  'machines',
]);

/** Adds one call to the log and to the counters. */
export function recordCall(ctx: SimContext, record: CallRecord): void {
  ctx.log.add(record);
  const s = ctx.stats;
  if (record.family === 'entra') {
    s.tokenRequests++;
    return;
  }
  if (record.family === 'hunting') {
    s.hunting.calls++;
    if (record.status === 429) s.hunting.throttled++;
    if (record.status === 400) s.hunting.badRequests++;
    return;
  }
  if (!API_FAMILY_SET.has(record.family)) return;
  s.calls++;
  s.byFamily[record.family as ApiFamily]++;
  const key = String(record.status);
  s.byStatus[key] = (s.byStatus[key] ?? 0) + 1;
  if (record.status === 429) s.throttled++;
  if (record.status === 401) s.unauthorized++;
  if (record.actionId) s.actionsCreated++;
  if (record.existingActionId) s.existingActionReplies++;
  if (record.lost) s.lostReplies++;
}
