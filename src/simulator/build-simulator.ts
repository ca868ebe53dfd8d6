import { performance } from 'node:perf_hooks';
import fastify, { type FastifyInstance } from 'fastify';
import { AccessTokens } from './access-tokens.js';
import { registerActionRoutes } from './action-routes.js';
import { arrivalOf, arriveAfterRequestLeg } from './api-call.js';
import { apiError } from './api-error.js';
import { CallLog, type CallRecord } from './call-log.js';
import { DelegatedState } from './delegated-state.js';
import { registerDeviceCodeRoutes } from './device-code.js';
import { registerAuthorizeRoutes } from './authorize-routes.js';
import { SignInState, type IdTokenFault } from './signin-state.js';
import { trustCertificates } from './client-assertion.js';
import { generateFleet, type SimMachine } from './fleet.js';
import { registerHuntingRoute } from './hunting-route.js';
import { registerListRoutes } from './list-routes.js';
import { fileEventRows } from './file-events.js';
import { SecurityStore } from './security-incidents.js';
import { registerSecurityRoutes } from './security-routes.js';
import { addRecordedActions, type RecordedActionSpec } from './seed-actions.js';
import { scanEvents, scheduledScanRows, type DeviceEventRow } from './device-events.js';
import type { PlannedDetection } from './detections.js';
import { machineDetections } from './hunting-rows.js';
import { ActionStore, type StoredAction } from './machine-actions.js';
import { completeMachines } from './machine-file.js';
import { resolveOptions, type SimulatorOptions } from './options.js';
import { createRandom } from './random.js';
import { emptyStats, recordCall, type SimContext, type SimulatorStats } from './sim-context.js';
import { seedOtherScans } from './seed-actions.js';
import { resolveUsers } from './sim-users.js';
import { startOtherConsumer, type OtherConsumerStats } from './other-consumer.js';
import { SlidingWindowThrottle } from './throttle.js';
import { registerTokenEndpoint } from './token-endpoint.js';
import { MDE_RESOURCES } from './token-request.js';

export { maxInAnyWindow, type CallRecord } from './call-log.js';
export type { SimulatorOptions } from './options.js';
export type { SimulatorStats } from './sim-context.js';
export { ID_TOKEN_FAULTS, type IdTokenFault } from './signin-state.js';
export type { OtherConsumerStats } from './other-consumer.js';

/** The credentials the simulated tenant accepts. */
export interface SimulatorCredentials {
  tenantId: string;
  clientId: string;
  /** Empty when secrets are turned off. */
  clientSecret: string;
  /** SHA-1 (`thumbprint`) and SHA-256 thumbprints of certificates accepted for assertions. */
  certificates: { thumbprint: string; thumbprintSha256: string }[];
}

export interface Simulator {
  /** Not listening: `app.inject()` or `app.listen({ port: 0, host: '127.0.0.1' })`. */
  app: FastifyInstance;
  stats(): SimulatorStats;
  calls(): readonly CallRecord[];
  machines: readonly SimMachine[];
  actions(): readonly StoredAction[];
  /** Adds actions as if they had been requested earlier (large tracker tests, no API calls). */
  addActions(specs: readonly RecordedActionSpec[]): StoredAction[];
  /** Incidents and alerts (Graph security): add more during a test. */
  security: SecurityStore;
  /** The scan events (`DeviceEvents`) the devices have reported by now: the hunting truth. */
  deviceEvents(): DeviceEventRow[];
  /**
   * Every `AntivirusDetection` the devices have reported in `[fromMs, now]` (default: 30 days),
   * with its cause (the requested scan, real-time protection, a scheduled scan) and the alert it
   * raised: the truth behind `verify`'s findings.
   */
  detections(fromMs?: number): PlannedDetection[];
  credentials: SimulatorCredentials;
  /**
   * A valid bearer token for the configured app (for `MDE_ACCESS_TOKEN`-style use); `resource`
   * is its `aud` (default: the first accepted MDE resource). Any other audience gets a 401.
   */
  issueToken(options?: { lifetimeSec?: number; resource?: string }): string;
  /** The simulator's clock, ms. */
  now(): number;
  /**
   * Replaces the secret the token endpoint accepts, as a revocation in Entra does: tokens
   * already issued stay valid until they expire, new requests with the old secret fail.
   */
  rotateClientSecret(next: string): void;
  /** Plays the user: enters `userCode` on the sign-in page as `username`; false if refused. */
  approveDeviceCode(userCode: string, username: string): boolean;
  /** Revokes every refresh token of a user, as an admin's "revoke sessions" does. */
  revokeRefreshTokens(username: string): number;
  /** Spoils every ID token the code flow issues from now on (null: sound tokens again). */
  setIdTokenFault(fault: IdTokenFault | null): void;
  /** What the invisible other consumer spent (zeros without `otherConsumer`). */
  otherConsumer(): OtherConsumerStats;
  close(): Promise<void>;
}

/** A monotonic clock anchored to wall time once: throttling must never see time step back. */
function monotonicNow(): () => number {
  const origin = Date.now() - performance.now();
  return () => origin + performance.now();
}

/** The `aud` values the API accepts: the resources of the scopes the token endpoint grants. */
function apiAudiences(acceptedScopes: readonly string[] | undefined): string[] {
  if (acceptedScopes === undefined) return [...MDE_RESOURCES];
  return acceptedScopes.map((scope) => scope.replace(/\/\.default$/, ''));
}

/** Builds the fake Defender API + Entra token endpoint (see mde-api.md); does not listen. */
export async function buildSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts = resolveOptions(options);
  const now = options.now ?? monotonicNow();
  const startMs = now();
  const machineList = options.machines
    ? completeMachines(options.machines, startMs)
    : generateFleet(options.fleet ?? 200, opts.seed, startMs, options.fleetMix);
  const audiences = apiAudiences(options.acceptedScopes);
  const stream = (k: number) => createRandom((opts.seed * 7919 + k) >>> 0);
  const ctx: SimContext = {
    opts,
    now,
    random: {
      faults: stream(1),
      lost: stream(2),
      latency: stream(3),
      busy: stream(4),
      ids: stream(5),
      outcome: stream(6),
      latencySplit: stream(7),
      evidence: stream(8),
    },
    machines: new Map(machineList.map((m) => [m.id, m])),
    machineList,
    actions: new ActionStore(),
    tokens: new AccessTokens(now, opts.tenantId, audiences, options.appRoles),
    throttle: new SlidingWindowThrottle(opts.rateLimits),
    huntingThrottle: new SlidingWindowThrottle(opts.huntingRateLimits),
    certificates: trustCertificates(
      options.certificatePem === undefined
        ? []
        : typeof options.certificatePem === 'string'
          ? [options.certificatePem]
          : options.certificatePem,
    ),
    acceptedScopes: options.acceptedScopes,
    log: new CallLog(options.callLogFile),
    stats: emptyStats(),
    delegated: new DelegatedState(resolveUsers(options.users)),
    security: new SecurityStore(machineList, opts.tenantId, startMs),
    fileEvents: fileEventRows(options.fileObservations ?? [], machineList, startMs),
    signIn: new SignInState(),
  };
  for (const incident of options.incidents ?? []) ctx.security.addIncident(incident);
  seedOtherScans(ctx, startMs);
  await ctx.log.open();
  // Started with the simulator, so its schedule's time 0 is the simulator's start.
  const other = options.otherConsumer
    ? startOtherConsumer({
        schedule: options.otherConsumer.schedule,
        timeScale: opts.timeScale,
        throttle: ctx.throttle,
        key: `${opts.clientId}|${opts.tenantId}|${
          opts.budgetScope === 'shared' ? 'all' : (options.otherConsumer.family ?? 'scan')
        }`,
        now,
      })
    : undefined;
  if (options.otherConsumer?.startsAt !== 'first-call') other?.start();

  let app: FastifyInstance;
  try {
    app = fastify({
      logger: false,
      forceCloseConnections: true,
      // No implicit HEAD twins of the GET routes: the API documents none, so HEAD is a 404.
      exposeHeadRoutes: false,
      routerOptions: { maxParamLength: 1000 },
      ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
    });
  } catch (error) {
    other?.stop();
    await ctx.log.close();
    throw error;
  }
  // Bodies are read as text and checked by each route, so every bad body gets the API's answer.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/api/')) other?.start(); // `startsAt: 'first-call'`; else a no-op
    await arriveAfterRequestLeg(ctx, request);
  });
  registerTokenEndpoint(app, ctx);
  registerDeviceCodeRoutes(app, ctx);
  registerAuthorizeRoutes(app, ctx);
  registerActionRoutes(app, ctx);
  registerListRoutes(app, ctx);
  registerHuntingRoute(app, ctx);
  registerSecurityRoutes(app, ctx);
  app.setNotFoundHandler(async (request, reply) => {
    const result = apiError(
      404,
      'ResourceNotFound',
      `No route for ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    );
    recordCall(ctx, {
      t: arrivalOf(ctx, request),
      method: request.method,
      path: request.url,
      family: 'unrouted',
      status: 404,
      code: 'ResourceNotFound',
      machineId: null,
      actionId: null,
      existingActionId: null,
      lost: false,
      appId: null,
      durationMs: 0,
    });
    await reply.code(404).type('application/json; charset=utf-8').send(JSON.stringify(result.body));
  });
  // Requests fastify refuses before any route runs (body too large, unreadable URL) still get
  // the API's error shape and a line in the call log, so the log misses no call.
  app.setErrorHandler(async (error: { statusCode?: number; message?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    const result =
      status >= 500
        ? apiError(500, 'InternalServerError', 'An unexpected error occurred.')
        : apiError(status, 'BadRequest', error.message ?? 'Bad request.');
    const t = arrivalOf(ctx, request);
    recordCall(ctx, {
      t,
      method: request.method,
      path: request.url,
      family: 'unrouted',
      status,
      code: result.code ?? null,
      machineId: null,
      actionId: null,
      existingActionId: null,
      lost: false,
      appId: null,
      durationMs: now() - t,
    });
    await reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(result.body));
  });

  return {
    app,
    stats: () => structuredClone(ctx.stats),
    calls: () => ctx.log.all(),
    machines: machineList,
    actions: () => ctx.actions.all(),
    addActions: (specs) => addRecordedActions(ctx, specs),
    security: ctx.security,
    deviceEvents: () => {
      const now = ctx.now();
      const scheduled = machineList.flatMap((m) =>
        scheduledScanRows(m, opts.scheduledScans, opts.seed, now - 30 * 86_400_000, now),
      );
      return [...scanEvents(ctx.actions.all(), now), ...scheduled];
    },
    detections: (fromMs) => {
      const now = ctx.now();
      const from = Math.max(fromMs ?? 0, now - 30 * 86_400_000);
      return machineList.flatMap((m) => machineDetections(ctx, m, from, now));
    },
    credentials: {
      tenantId: opts.tenantId,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      certificates: ctx.certificates.map((c) => ({
        thumbprint: c.thumbprint,
        thumbprintSha256: c.thumbprintSha256,
      })),
    },
    issueToken: (o = {}) =>
      ctx.tokens.issue(
        opts.clientId,
        o.resource ?? audiences[0] ?? 'https://api.securitycenter.microsoft.com',
        o.lifetimeSec ?? opts.tokenLifetimeSec,
      ),
    now,
    rotateClientSecret(next) {
      ctx.opts.clientSecret = next;
    },
    approveDeviceCode: (userCode, username) => ctx.delegated.approve(userCode, username, now()),
    revokeRefreshTokens: (username) => ctx.delegated.revoke(username),
    setIdTokenFault: (fault) => {
      ctx.signIn.fault = fault;
    },
    otherConsumer: () => other?.stats() ?? { counted: 0, throttled: 0 },
    close: async () => {
      other?.stop();
      await app.close();
      await ctx.log.close();
    },
  };
}
