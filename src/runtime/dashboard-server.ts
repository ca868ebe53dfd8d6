import { createWebhookStore } from '../webhooks/webhook-store.js';
import { setTimeout as delay } from 'node:timers/promises';
import { createScheduleReader } from '../schedules/schedule-reader.js';
import { createScheduleStore } from '../schedules/schedule-store.js';
import { startApiServices } from './api-services.js';
import { scheduleClockFrom } from './runtime-schedules.js';
import { createTokenStore } from '../api/tokens/token-store.js';
import { createDestinationGuard } from '../webhooks/webhook-destination.js';
import { createAuditLog } from '../audit/audit-log.js';
import { readNextAttempts } from '../lanes/next-attempts.js';
import { blockedReport } from '../lanes/blocked-tenants.js';
import { readTenantReports } from '../lanes/tenant-reports.js';
import { redisTimeMs } from '../shared/redis-time.js';
import { createLaneMetrics } from '../lanes/lane-metrics.js';
import { createCampaignControl } from '../control/campaign-control.js';
import type { Config } from '../config/schema.js';
import { hasCredentials, refuseBind } from '../dashboard/auth.js';
import { buildDashboard } from '../dashboard/build-dashboard.js';
import { createCampaignStarter } from '../dashboard/start/campaign-starter.js';
import { graphClientFromConfig } from './hunting-from-config.js';
import { tenantConfigOf } from '../tenants/tenant-registry.js';
import { dashboardRetention } from './retention-from-config.js';
import { buildRuntime, type Runtime } from './build-runtime.js';
import type { ScheduleRun } from '../dashboard/routes/admin.js';
import { signInFromConfig, type SignInNetwork } from './signin-from-config.js';
import type { Logger } from '../shared/logger.js';
import { createOutageRider, watchRedisOutage } from './redis-outage.js';
import { describeRedisUrl } from '../shared/redis.js';
import { retryFailed } from '../control/retry-failed.js';
import { listWorkers, WORKER_HEARTBEAT_MS } from '../ops/worker-presence.js';
import { dashboardLifecycle } from './dashboard-lifecycle.js';
import { readServerTls } from '../shared/server-tls.js';

/**
 * The bind address refused for the credentials and TLS configured: a setting to change, not a
 * fault (`fleetscan dashboard` prints it as a usage error).
 */
export class DashboardBindError extends Error {
  override name = 'DashboardBindError';
}

/** A schedule run now, from this process's runtime (`fleetscan schedule trigger`). */
export type RunSchedule = (
  runtime: Runtime,
  name: string,
  log: Logger,
  createdBy: string,
) => Promise<ScheduleRun>;

export interface DashboardServer {
  /** `http://127.0.0.1:3000` as fastify reports it. */
  address: string;
  /** Stops listening, then closes the queue and Redis connections. */
  close(): Promise<void>;
  /**
   * Rejects, with one sentence and the fix, once Redis stayed away longer than
   * `redis.outageTolerance`; shorter outages are ridden out (one log line each way).
   */
  outage: Promise<never>;
}

/** How long closing waits for the server and the API's queue before cutting Redis off. */
const CLOSE_WAIT_MS = 5_000;

/** How often the dashboard asks Redis whether it is there. */
const OUTAGE_PROBE_MS = 1_000;

/**
 * Starts the dashboard: checks the bind address against the credentials, waits for Redis with
 * backoff (refusing one that may evict keys, unless configured otherwise), builds the app and
 * listens. Without credentials it says in the log that it serves loopback only.
 */
export async function startDashboardServer(
  config: Config,
  options: {
    log?: Logger;
    role?: string;
    /** HTTP for the Entra sign-in (`npm run screenshots` trusts its simulator's CA with it). */
    signInNetwork?: SignInNetwork;
    /**
     * The admin page's "Run now": `fleetscan schedule trigger`, which the CLI owns and passes in
     * (`runScheduleNow`); absent, the page offers no button.
     */
    runSchedule?: RunSchedule;
  } = {},
): Promise<DashboardServer> {
  const { host, port, allowActions } = config.dashboard;
  const https = readServerTls(config.dashboard, 'dashboard');
  const refusal = refuseBind(host, config.dashboard, {
    tls: https !== undefined,
    insecureBind: config.dashboard.insecureBind,
  });
  if (refusal) throw new DashboardBindError(refusal);

  const { signInNetwork, runSchedule, ...runtimeOptions } = options;
  const runtime = await buildRuntime(config, { role: 'dashboard', ...runtimeOptions });
  const { log } = runtime;
  if (!hasCredentials(config.dashboard)) {
    log.warn({ host }, 'no dashboard credentials configured: serving on loopback only');
  } else if (config.dashboard.auth === 'entra') {
    log.info(
      { redirectUri: config.dashboard.entra.redirectUri },
      'dashboard sign-in with Entra ID',
    );
  }
  // The automation API (and its webhook watcher and deliveries) in the same process.
  const lifecycle = dashboardLifecycle(runtime);
  const api = config.api.enabled
    ? startApiServices(runtime, {
        cancelActions: async (campaignId) => ({ ...(await lifecycle.cancelActions(campaignId)) }),
      })
    : null;
  const app = await buildDashboard({
    store: runtime.store,
    redis: runtime.redis,
    storePrefix: config.redis.prefix,
    stats: runtime.callStats,
    budgets: uniqueBudgets(runtime.tenants.list()).map((tenant) => ({
      id: tenant.budgetId,
      tenants: runtime.tenants
        .list()
        .filter((t) => t.budgetId === tenant.budgetId)
        .map((t) => t.name),
      usage: () => tenant.limiter.usage(),
      blocked: async () => blockedReport(await runtime.lanes.forTenant(tenant.name).breaker.read()),
      reserve: runtime.lanes.forTenant(tenant.name).reserve,
      nextAttempts: () =>
        readNextAttempts(runtime.redis, runtime.lanes.forTenant(tenant.name).keys.due),
    })),
    control: createCampaignControl({ store: runtime.store, lanes: runtime.lanes }),
    queue: api?.queue,
    lanes: createLaneMetrics({
      lanes: runtime.lanes,
      tenantsOf: (budgetId) =>
        runtime.tenants
          .list()
          .filter((t) => t.budgetId === budgetId)
          .map((t) => t.name),
      campaigns: async () => (await runtime.store.listCampaigns()).slice(0, 200),
    }),
    ...lifecycle,
    verifyEnabled: config.verify.enabled,
    webhookAttempts: () => createWebhookStore(runtime.redis, config.redis.prefix).attemptCounts(),
    credentials: config.dashboard,
    signIn: signInFromConfig(config, {
      redis: runtime.redis,
      clock: runtime.clock,
      log: log.child({ component: 'dashboard' }),
      network: signInNetwork,
    }),
    https,
    allowActions,
    requireNoEviction: config.redis.requireNoEviction,
    clock: runtime.clock,
    liveIntervalMs: config.dashboard.liveInterval,
    schedules: createScheduleReader(createScheduleStore(runtime.redis, config.redis.prefix)),
    // The admin pages manage what `fleetscan token`, the API's /webhooks and `fleetscan
    // schedule` do, through the same stores and the API's destination guard.
    admin: {
      tokens: api?.deps.tokens ?? createTokenStore(runtime.redis, config.redis.prefix),
      webhooks: api?.deps.webhooks ?? createWebhookStore(runtime.redis, config.redis.prefix),
      guard: api?.deps.guard ?? createDestinationGuard(config.webhooks),
      schedules: createScheduleStore(runtime.redis, config.redis.prefix),
      scheduleNow: () => scheduleClockFrom(config).now(),
      baseDir: process.cwd(),
      // "Run now" is `fleetscan schedule trigger`, run by this process with its own parts.
      ...(runSchedule
        ? {
            runSchedule: (name: string, createdBy: string) =>
              runSchedule(runtime, name, log.child({ component: 'dashboard' }), createdBy),
          }
        : {}),
    },
    retryFailed: (campaignId: string) =>
      retryFailed(
        {
          redis: runtime.redis,
          prefix: config.redis.prefix,
          store: runtime.store,
          lanes: runtime.lanes,
        },
        { campaignId },
      ),
    tenants: async () =>
      readTenantReports(
        { tenants: runtime.tenants, lanes: runtime.lanes },
        await redisTimeMs(runtime.redis),
      ),
    workers: () =>
      listWorkers(runtime.redis, config.redis.prefix, { intervalMs: WORKER_HEARTBEAT_MS }),
    log: log.child({ component: 'dashboard' }),
    api: api?.deps,
    audit: createAuditLog(runtime.redis, config.redis.prefix),
    retention: dashboardRetention(config, runtime.redis, runtime.store),
    starter: createCampaignStarter({
      store: runtime.store,
      lanes: runtime.lanes,
      tenants: runtime.tenants,
      redis: runtime.redis,
      prefix: config.redis.prefix,
      memory: config.retention.memory,
      bodyLimit: config.api.bodyLimit,
      now: () => runtime.clock.now(),
      // Hunting, incident and alert: each tenant's own Graph identity and hunting budget.
      evidence: (tenant) =>
        graphClientFromConfig(tenantConfigOf(config, tenant), runtime.redis, runtime.log),
    }),
  });
  let giveUp: (error: Error) => void = () => undefined;
  const outage = new Promise<never>((_, reject) => {
    giveUp = reject;
  });
  outage.catch(() => undefined); // observed by serveDashboard; a test may not look
  const stopWatching = watchRedisOutage(
    runtime.redis,
    createOutageRider({
      toleranceMs: config.redis.outageTolerance,
      where: describeRedisUrl(config.redis.url),
      clock: runtime.clock,
      say: (message) => {
        log.warn(message);
      },
    }),
    {
      intervalMs: OUTAGE_PROBE_MS,
      onGiveUp: (error) => {
        log.error(error.message);
        giveUp(error);
      },
    },
  );
  const close = async () => {
    stopWatching();
    // After giving up on Redis nothing there answers: closing must not wait for it for ever.
    await Promise.race([
      (async () => {
        await app.close();
        await api?.close();
      })(),
      delay(CLOSE_WAIT_MS),
    ]);
    await runtime.close();
  };
  try {
    const address = await app.listen({ host, port });
    log.info({ address, allowActions }, `dashboard listening on ${address}`);
    return { address, close, outage };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Runs the dashboard until SIGTERM/SIGINT (the CLI and `workers/dashboard-server.ts`). */
export async function serveDashboard(
  config: Config,
  options: { runSchedule?: RunSchedule } = {},
): Promise<void> {
  const server = await startDashboardServer(config, options);
  try {
    await Promise.race([
      server.outage,
      new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      }),
    ]);
  } finally {
    await server.close();
  }
}

/** One entry per budget: tenants sharing an API identity share its budget. */
function uniqueBudgets<T extends { budgetId: string }>(tenants: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const tenant of tenants) if (!seen.has(tenant.budgetId)) seen.set(tenant.budgetId, tenant);
  return [...seen.values()];
}
