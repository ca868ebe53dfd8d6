import {
  startScanWorker,
  type ScanWorker,
  type ScanWorkerDeps,
  type ScanWorkerSettings,
} from '../scan/start-scan-worker.js';
import { verifyAfterSettle } from './verify-after-settle.js';
import { tenantConfigOf } from '../tenants/tenant-registry.js';
import { trackerClientFor } from './tracker-client.js';
import { scheduleClockFrom } from './runtime-schedules.js';
import { campaignSettledEvent, tenantBlockEvent } from '../webhooks/source-events.js';
import { createWebhookStore } from '../webhooks/webhook-store.js';
import type { DefenderClient } from '../defender/client.js';
import type { Runtime } from './build-runtime.js';
import { createReconciler } from '../scan/reconcile-campaign.js';
import { hostname } from 'node:os';
import { startStoreWatch } from '../ops/store-identity.js';
import { WORKER_HEARTBEAT_MS } from '../ops/worker-presence.js';
import { duplicateRedis } from '../shared/redis.js';
import { auditSink, recordAudit, workerActor, type AuditSink } from '../audit/record-audit.js';

/** Audit entries of this worker process's own actions (`worker:<host>:<pid>`). */
function workerAudit(runtime: Runtime): AuditSink {
  return auditSink(runtime.redis, runtime.config.redis.prefix, workerActor(), {
    now: () => runtime.clock.now(),
    onUnrecorded: (error) => {
      runtime.log.warn({ reason: String(error) }, 'audit record not written');
    },
  });
}

/**
 * When the tracker sees every action of a campaign terminal: `campaign.settled` to the webhook
 * subscribers (delivered by the API process's queue), then proof of completion when verify is on.
 */
function announceThenVerify(runtime: Runtime): (campaignId: string) => Promise<void> {
  const webhooks = createWebhookStore(runtime.redis, runtime.config.redis.prefix);
  const verify = verifyAfterSettle(runtime);
  return async (campaignId) => {
    const campaign = await runtime.store.getCampaign(campaignId);
    if (campaign) {
      await webhooks
        .emit(campaignSettledEvent(campaign, runtime.clock.now()))
        .catch((error: unknown) => {
          runtime.log.warn({ campaignId, reason: String(error) }, 'campaign.settled not recorded');
        });
    }
    if (verify) await verify(campaignId);
  };
}

/** `tenant.blocked` / `tenant.unblocked` for every tenant of the budget whose breaker changed. */
function announceBreaker(runtime: Runtime): NonNullable<ScanWorkerDeps['onBreakerChange']> {
  const webhooks = createWebhookStore(runtime.redis, runtime.config.redis.prefix);
  const audit = workerAudit(runtime);
  return async (lane, change) => {
    const tenants = runtime.tenants.list().filter((t) => t.budgetId === lane.budgetId);
    for (const tenant of tenants) {
      if (change.kind === 'blocked' || change.kind === 'unblocked') {
        const state = change.kind === 'blocked' ? change.state : change.previous;
        await recordAudit(audit, {
          action: change.kind === 'blocked' ? 'tenant.block' : 'tenant.unblock',
          target: tenant.name,
          outcome: 'ok',
          detail:
            change.kind === 'blocked'
              ? `breaker: ${state.reason}${change.state.message ? ` (${change.state.message})` : ''}; next probe ${new Date(change.state.probeAt).toISOString()}`
              : `breaker: a probe succeeded; blocked since ${new Date(state.since).toISOString()} (${state.reason})`,
        });
      }
      const event =
        change.kind === 'blocked'
          ? tenantBlockEvent(tenant.name, true, change.state.since, change.state.reason, {
              message: change.state.message,
              nextProbeAt: new Date(change.state.probeAt).toISOString(),
            })
          : change.kind === 'unblocked'
            ? tenantBlockEvent(tenant.name, false, runtime.clock.now(), change.previous.reason, {
                blockedSince: new Date(change.previous.since).toISOString(),
              })
            : undefined;
      if (!event) continue;
      await webhooks.emit(event).catch((error: unknown) => {
        runtime.log.warn(
          { tenant: tenant.name, reason: String(error) },
          `${event.type} not recorded`,
        );
      });
    }
  };
}

/**
 * The tracker's client of each tenant, built on first use (a tenant without credentials fails
 * alone) and kept: that tenant's host and credentials, its share of that tenant's budget.
 */
function trackerClientsOf(runtime: Runtime): (tenant: string) => DefenderClient {
  const clients = new Map<string, DefenderClient>();
  return (name) => {
    let client = clients.get(name);
    if (!client) {
      client = trackerClientFor(
        tenantConfigOf(runtime.config, name),
        runtime.tenants.get(name),
        runtime,
      );
      clients.set(name, client);
    }
    return client;
  };
}

const MAX_WARM_TENANTS = 16;

/**
 * Token and connections of every tenant's client ready before the first burst (issue 10: warm
 * connections): about `concurrency` sockets in all, shared out over the tenants, so a process
 * serving hundreds of tenants does not open thousands. In the background; failures say nothing.
 */
function warmClients(runtime: Runtime, concurrency: number): void {
  const tenants = runtime.tenants.list();
  // Many tenants: a token request each at start would hit Entra at once for tenants that may
  // have no campaign today; their first calls pay the set-up instead.
  if (tenants.length > MAX_WARM_TENANTS) return;
  const each = Math.max(1, Math.floor(concurrency / Math.max(1, tenants.length)));
  for (const tenant of tenants) {
    let warming: Promise<number> | undefined;
    try {
      warming = tenant.client().warmUp?.(each);
    } catch (error) {
      runtime.log.debug({ tenant: tenant.name, reason: String(error) }, 'client not warmed');
    }
    void warming?.then(
      (opened) => {
        runtime.log.debug({ tenant: tenant.name, opened }, 'connections warmed');
      },
      () => undefined,
    );
  }
}

/**
 * After a store loss what is left may be incomplete too: every live campaign's actions are
 * looked up again before any new call, each one audited as this worker's decision.
 */
export function reconcileAfterStoreLoss(runtime: Runtime): () => Promise<void> {
  return async () => {
    const audit = workerAudit(runtime);
    for (const campaign of await runtime.store.listCampaigns()) {
      if (campaign.state === 'running' || campaign.state === 'paused') {
        await runtime.store.requestReconcile(campaign.id);
        await recordAudit(audit, {
          action: 'campaign.reconcile',
          target: campaign.id,
          outcome: 'ok',
          detail: 'Redis lost data: every action of the campaign is looked up again',
        });
      }
    }
  };
}

/**
 * A scan worker wired to a runtime: one dispatcher over every tenant's budget (one pool of
 * workers, one wake-up connection, however many tenants), each campaign's calls through its
 * tenant's client.
 */
export function startRuntimeWorker(
  runtime: Runtime,
  settings: ScanWorkerSettings,
  onDeviceHandled?: () => void,
): ScanWorker {
  const subscriber = duplicateRedis(runtime.redis, 'fleetscan-wake');
  subscriber.on('error', (error: Error) => {
    runtime.log.warn({ reason: error.message }, 'wake-up connection error');
  });
  const clientFor = (tenant: string) => runtime.tenants.get(tenant).client();
  const reconciler = createReconciler({
    store: runtime.store,
    redis: runtime.redis,
    prefix: runtime.config.redis.prefix,
    clientFor,
    clock: runtime.clock,
    log: runtime.log.child({ component: 'reconcile' }),
  });
  // Redis loss is detected and said (docs/reliability.md): the epoch is checked every beat.
  const storeWatch = startStoreWatch(runtime.redis, runtime.config.redis.prefix, {
    create: true,
    intervalMs: WORKER_HEARTBEAT_MS,
    by: `${hostname()}:${String(process.pid)}`,
    log: runtime.log.child({ component: 'store-identity' }),
    onLoss: reconcileAfterStoreLoss(runtime),
  });
  storeWatch.check().catch((error: unknown) => {
    runtime.log.debug({ reason: String(error) }, 'store identity not checked');
  });
  warmClients(runtime, settings.concurrency);
  const worker = startScanWorker(
    {
      redis: runtime.redis,
      subscriber,
      prefix: runtime.config.redis.prefix,
      lanes: runtime.lanes.all(),
      store: runtime.store,
      clientFor,
      reconciler,
      onMissingCampaign: (campaignId) => {
        storeWatch.missingCampaign(campaignId);
      },
      log: runtime.log,
      clock: runtime.clock,
      config: runtime.config,
      tracking: {
        settings: runtime.config.tracking,
        listerFor: trackerClientsOf(runtime),
        onSettled: announceThenVerify(runtime),
      },
      windowClock: scheduleClockFrom(runtime.config),
      onBreakerChange: announceBreaker(runtime),
      onDeviceHandled,
    },
    settings,
  );
  return {
    ...worker,
    async close() {
      storeWatch.stop();
      await worker.close();
      // Its calls are all made: their counts go to Redis now, not at the next flush tick.
      await runtime.callStats.flush();
      await subscriber.quit().catch(() => undefined);
      subscriber.disconnect();
    },
  };
}
