import { pino } from 'pino';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { API_PREFIX, registerApi } from '../api/api-plugin.js';
import { registerAuditPage } from './pages/audit-page.js';
import { exportDevices } from '../campaigns/export-devices.js';
import { systemClock } from '../shared/clock.js';
import { explainRedisError, isRedisConnectionError } from '../shared/redis-errors.js';
import { createGuessThrottle } from '../shared/guess-throttle.js';
import {
  basicUserOf,
  createAuthCheck,
  hasCredentials,
  hostnameOf,
  isLoopbackHost,
} from './auth.js';
import { askToSignIn } from './signin/ask-to-sign-in.js';
import { registerSignInRoutes, sessionPerson, SIGN_IN_PATHS } from './signin/signin-routes.js';
import { hasRole, sendRoleRefusal, sharedCredentialPerson, type Person } from './roles.js';
import { actionCandidate, createActionToken, isSameOrigin, isUnsafeMethod } from './csrf.js';
import type { DashboardDeps } from './dashboard-deps.js';
import { createDashboardMetrics } from './metrics.js';
import { checkStoreIdentity } from '../ops/store-identity.js';
import { createRateTracker } from './rate-tracker.js';
import { registerActionRoutes } from './routes/actions.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerExportRoutes } from './routes/export.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { liveFragments, registerPageRoutes } from './routes/pages.js';
import { registerLiveRoutes } from './routes/live.js';
import { createLiveFeeds } from './live-feeds.js';
import { QUEUES_PATH, registerQueueBoard } from './routes/queues.js';
import { registerStartRoutes } from './routes/start.js';
import { registerStaticRoutes, STATIC_PATHS } from './routes/static.js';
import { retentionViews } from '../retention/dashboard-retention.js';

/** How often the live blocks of the pages are read for all their viewers (`dashboard.liveInterval`). */
const LIVE_INTERVAL_MS = 3_000;

/** Probes and assets: no data, no credentials needed. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', ...STATIC_PATHS]);

const PAGE_CSP =
  "default-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; " +
  "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * The dashboard as a fastify app: pages, fragments, exports, `/metrics`, probes, bull-board and,
 * with `allowActions`, the pause/resume/cancel routes. Returns the app; it never listens (the CLI
 * does, after checking the bind address with `refuseBind`).
 */
export async function buildDashboard(deps: DashboardDeps): Promise<FastifyInstance> {
  // Typed as the plain FastifyInstance the routes take: pino's Logger generic does not line up
  // with FastifyBaseLogger's, although fastify accepts a pino instance as its logger.
  const app = Fastify({
    loggerInstance: deps.log ?? pino({ level: 'silent' }),
    // A wall screen polls all day: log errors, not every request.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance;
  const clock = deps.clock ?? systemClock;
  const withCredentials = hasCredentials(deps.credentials);
  const authorized = createAuthCheck(deps.credentials);
  // Failed logins: at most 5 per second from one address, 20 per second for one user name
  // (from everywhere, a slower lock for a distributed guesser that leaves the user a way in).
  const perAddress = createGuessThrottle({ perWindow: 5, windowMs: 1_000, clock });
  const perUser = createGuessThrottle({ perWindow: 20, windowMs: 1_000, clock });
  const token = deps.allowActions ? createActionToken() : null;

  app.decorateRequest('person', null);
  /** Who a shared credential stands for: the Basic user name, or `token` for the bearer. */
  const sharedPerson = (authorization: string | undefined): Person => {
    const user = basicUserOf(authorization);
    return user
      ? sharedCredentialPerson('basic', user, deps.allowActions)
      : sharedCredentialPerson('token', 'token', deps.allowActions);
  };

  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request);
    if (PUBLIC_PATHS.has(path)) return;
    // The automation API authenticates with its own bearer tokens (src/api), never a browser's.
    if (deps.api && path.startsWith(`${API_PREFIX}/`)) return;
    if (deps.signIn) {
      if (SIGN_IN_PATHS.has(path)) return;
      const person = await sessionPerson(request, deps.signIn.sessions);
      if (!person) return askToSignIn(request, reply);
      request.person = person;
    } else if (withCredentials) {
      const authorization = request.headers.authorization;
      const address = [`address:${request.ip}`];
      const user = basicUserOf(authorization);
      const name = user === null ? [] : [`user:${user}`];
      const wait = Math.max(perAddress.waitMs(address), perUser.waitMs(name));
      if (wait > 0) {
        return reply
          .code(429)
          .header('retry-after', String(Math.ceil(wait / 1000)))
          .send({ error: 'too many failed logins; wait' });
      }
      if (!(await authorized(authorization))) {
        if (authorization !== undefined) {
          perAddress.fail(address);
          perUser.fail(name);
        }
        return reply
          .code(401)
          .header('www-authenticate', 'Basic realm="fleetscan", charset="UTF-8"')
          .send({ error: 'credentials required' });
      }
      request.person = sharedPerson(authorization);
    } else if (
      !isLoopbackHost(request.socket.remoteAddress ?? '') ||
      !isLoopbackHost(hostnameOf(request.headers.host ?? ''))
    ) {
      // Without credentials only this machine may look, and only under a loopback name (a page
      // on another site cannot reach us through DNS rebinding).
      return reply.code(403).send({ error: 'no credentials configured: loopback only' });
    } else {
      request.person = sharedCredentialPerson('local', 'local', deps.allowActions);
    }
    if (isUnsafeMethod(request.method)) {
      if (!isSameOrigin(request))
        return reply.code(403).send({ error: 'cross-site request refused' });
      // Signing out changes nothing but the person's own session.
      if (deps.signIn && path === '/signout') return undefined;
      if (!deps.allowActions) return reply.code(403).send({ error: 'read-only dashboard' });
      // bull-board's own routes change queues too: the same action token as the buttons.
      if (path.startsWith(QUEUES_PATH)) {
        if (!hasRole(request.person, 'operator')) {
          return sendRoleRefusal(request, reply, 'operator');
        }
        if (!token?.verify(actionCandidate(request))) {
          return reply.code(403).send({ error: 'missing or wrong action token' });
        }
      }
    }
    return undefined;
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html') && !pathOf(request).startsWith(QUEUES_PATH)) {
      reply.header('content-security-policy', PAGE_CSP);
    }
  });

  // A page read during a Redis outage: a plain sentence and 503, never the client's wording
  // (the server itself rides the outage out up to redis.outageTolerance).
  app.setErrorHandler((error, _request, reply) => {
    if (!isRedisConnectionError(error)) return reply.send(error);
    return reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send(
        `${explainRedisError(error, 'the configured Redis').message} The dashboard keeps ` +
          'retrying: reload this page in a moment.',
      );
  });

  const retention = retentionViews(deps.store, deps.redis, deps.retention);
  const overviewDeps = {
    store: deps.store,
    budgets: deps.budgets,
    clock,
    rates: createRateTracker(),
    proof: deps.proof,
    retention: retention?.overview,
    schedules: deps.schedules,
    workers: deps.workers,
    killSwitch: deps.killSwitch,
    tenants: deps.tenants,
  };
  registerHealthRoutes(app, deps.redis, deps.requireNoEviction, deps.storePrefix);
  registerStaticRoutes(app);
  const pageDeps = {
    ...overviewDeps,
    actionToken: token?.token ?? null,
    retryOffered: deps.retryFailed !== undefined,
    startOffered: token !== null && deps.starter !== undefined,
  };
  registerPageRoutes(app, pageDeps);
  registerLiveRoutes(app, {
    feeds: createLiveFeeds({
      intervalMs: deps.liveIntervalMs ?? LIVE_INTERVAL_MS,
      read: liveFragments(pageDeps),
    }),
  });
  registerExportRoutes(
    app,
    retention?.exportStore ?? deps.store,
    deps.exportWriter ?? exportDevices,
  );
  registerMetricsRoute(
    app,
    createDashboardMetrics({
      store: deps.store,
      stats: deps.stats,
      budgets: deps.budgets,
      queue: deps.lanes ?? deps.queue,
      clock,
      retention: retention?.metrics,
      schedules: deps.schedules,
      workers: deps.workers,
      lifecycle: deps.lifecycle,
      verifyEnabled: deps.verifyEnabled,
      webhookAttempts: deps.webhookAttempts,
      denials: deps.api ? () => deps.api?.denials.totals() ?? Promise.resolve({}) : undefined,
      storeLost:
        deps.storePrefix === undefined
          ? undefined
          : async () => {
              const identity = await checkStoreIdentity(deps.redis, deps.storePrefix ?? '');
              return !identity.ok;
            },
    }),
  );
  if (token) {
    const control = deps.control ?? {
      setState: (id: string, state: 'running' | 'paused' | 'cancelled') =>
        deps.store.setCampaignState(id, state),
    };
    registerActionRoutes(app, {
      store: deps.store,
      control,
      token,
      cancelActions: deps.cancelActions,
      retryFailed: deps.retryFailed,
      audit: deps.audit ?? deps.api?.audit,
    });
    if (deps.starter) {
      registerStartRoutes(app, {
        starter: deps.starter,
        token,
        audit: deps.audit ?? deps.api?.audit,
      });
    }
    if (deps.admin) {
      registerAdminRoutes(app, {
        ...deps.admin,
        token,
        clock,
        audit: deps.audit ?? deps.api?.audit,
      });
    }
  }
  if (deps.signIn) registerSignInRoutes(app, { ...deps.signIn, clock, audit: deps.audit });
  if (deps.queue) await registerQueueBoard(app, deps.queue, token, Boolean(deps.https));
  if (deps.api) await registerApi(app, deps.api);
  const audit = deps.audit ?? deps.api?.audit;
  if (audit) registerAuditPage(app, audit, deps.allowActions);
  return app;
}
