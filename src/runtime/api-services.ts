import type { Worker } from 'bullmq';
import { createCampaignControl } from '../control/campaign-control.js';
import type { Runtime } from './build-runtime.js';
import { startCampaignWatcher, type CampaignWatcher } from '../webhooks/campaign-watcher.js';
import { startWebhookWorker } from '../webhooks/deliver-webhooks.js';
import type { DrainJobData } from '../webhooks/webhook-queue.js';
import { bullmqPrefix, createWebhookQueue, type WebhookQueue } from '../webhooks/webhook-queue.js';
import { createWebhookStore } from '../webhooks/webhook-store.js';
import type { ApiDeps, CancelActions } from '../api/api-deps.js';
import { join } from 'node:path';
import { createGuessThrottle } from '../shared/guess-throttle.js';
import {
  createDestinationGuard,
  type DestinationGuard,
  type Resolve,
} from '../webhooks/webhook-destination.js';
import { securityDenialsEvent } from '../webhooks/source-events.js';
import { createDenialRecorder } from '../audit/audit-denials.js';
import { createAuditLog } from '../audit/audit-log.js';
import { trimAudit } from '../audit/audit-trim.js';
import { createIdempotencyStore } from '../api/idempotency-store.js';
import { createTokenStore } from '../api/tokens/token-store.js';
import { isClusterTarget } from '../shared/redis.js';
import { graphClientsByTenant } from './hunting-from-config.js';

export interface ApiServices {
  deps: ApiDeps;
  /** The webhook deliveries' BullMQ queue (shown by the dashboard's queue board). */
  queue: WebhookQueue;
  /** Stops the watcher and the delivery worker (a delivery in flight finishes), closes the queue. */
  close(): Promise<void>;
}

/**
 * The API's dependencies from a runtime, plus what runs beside it: the campaign watcher that
 * emits webhook events and the worker that delivers them. `cancelActions` is the kill switch,
 * wired by whoever has it (issue 12); without it `cancel {actions: true}` answers 501.
 */
export function startApiServices(
  runtime: Runtime,
  options: {
    cancelActions?: CancelActions;
    webhooks?: boolean;
    /** Name resolution for the webhook guard (tests answer with chosen addresses). */
    resolve?: Resolve;
  } = {},
): ApiServices {
  const { config, redis, log, clock } = runtime;
  const prefix = config.redis.prefix;
  const webhooks = createWebhookStore(redis, prefix);
  const guard: DestinationGuard = createDestinationGuard(config.webhooks, options.resolve);
  const denials = createDenialRecorder(
    redis,
    prefix,
    { windowMs: config.api.denialWindow, alertAt: config.api.denialAlert },
    async (flood) => {
      log.warn({ ...flood }, 'API refusals reached the alert threshold (security.denials)');
      await webhooks.emit(securityDenialsEvent(flood, clock.now()));
    },
  );
  const deps: ApiDeps = {
    redis,
    prefix,
    store: runtime.store,
    lanes: runtime.lanes,
    tenants: runtime.tenants,
    control: createCampaignControl({ store: runtime.store, lanes: runtime.lanes, clock }),
    cancelActions: options.cancelActions,
    graph: graphClientsByTenant(runtime),
    tokens: createTokenStore(redis, prefix),
    audit: createAuditLog(redis, prefix, config.api.auditMaxEntries * 2),
    denials,
    // Five failed token checks per second and address, in this process.
    guesses: createGuessThrottle({ perWindow: 5, windowMs: 1_000, clock }),
    guard,
    idempotency: createIdempotencyStore(redis, prefix, { ttlMs: config.api.idempotencyTtl }),
    webhooks,
    settings: {
      rateLimitMax: config.api.rateLimitMax,
      rateLimitWindowMs: config.api.rateLimitWindow,
      bodyLimit: config.api.bodyLimit,
    },
    clock,
  };
  const trimSettings = {
    maxAgeMs: config.api.auditMaxAge,
    maxEntries: config.api.auditMaxEntries,
    exportDir: config.api.auditExportDir ?? join(config.retention.archiveDir, 'audit'),
  };
  const trimmer = setInterval(() => {
    trimAudit(redis, prefix, trimSettings, clock.now()).catch((error: unknown) => {
      log.error({ reason: (error as Error).message }, 'audit export and trim failed');
    });
  }, config.api.auditTrimInterval);
  trimmer.unref();
  const queuePrefix = bullmqPrefix(prefix, isClusterTarget(config.redis));
  const queue = createWebhookQueue(runtime.bullConnection, queuePrefix);
  queue.on('error', (error: Error) => {
    log.warn({ reason: error.message }, 'webhook queue error');
  });
  if (options.webhooks === false) {
    return {
      deps,
      queue,
      close: async () => {
        clearInterval(trimmer);
        await queue.close().catch(() => undefined);
      },
    };
  }
  const worker: Worker<DrainJobData> = startWebhookWorker({
    connection: runtime.bullConnection,
    prefix: queuePrefix,
    store: webhooks,
    guard,
    clock,
    log: log.child({ component: 'webhooks' }),
    settings: {
      attempts: config.webhooks.attempts,
      backoffMs: config.webhooks.backoff,
      backoffCapMs: config.webhooks.backoffCap,
      timeoutMs: config.webhooks.timeout,
      concurrency: config.webhooks.concurrency,
    },
  });
  const watcher: CampaignWatcher = startCampaignWatcher({
    redis,
    prefix,
    store: runtime.store,
    webhooks,
    queue,
    clock,
    log: log.child({ component: 'campaign-watcher' }),
    intervalMs: config.webhooks.watchInterval,
  });
  return {
    deps,
    queue,
    async close() {
      clearInterval(trimmer);
      await watcher.stop();
      await worker.close();
      await queue.close().catch(() => undefined);
    },
  };
}
