import { DelayedError, Worker, type Job } from 'bullmq';
import { got } from 'got';
import type { LookupFunction } from 'node:net';
import type { Redis } from '../shared/redis.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import {
  DestinationRefusedError,
  pinnedLookup,
  type DestinationGuard,
} from './webhook-destination.js';
import { retryDelay } from './webhook-event.js';
import { WEBHOOK_QUEUE_NAME, type DrainJobData } from './webhook-queue.js';
import { signWebhook, WEBHOOK_HEADERS } from './webhook-signature.js';
import type { Delivery, DeliveryAttempt, WebhookStore } from './webhook-store.js';

export interface DeliverySettings {
  attempts: number;
  backoffMs: number;
  backoffCapMs: number;
  timeoutMs: number;
  concurrency: number;
}

/** One POST, connecting only to the addresses `lookup` gives (tests swap it for a recorder). */
export type SendWebhook = (
  url: string,
  request: {
    body: string;
    headers: Record<string, string>;
    timeoutMs: number;
    lookup: LookupFunction;
  },
) => Promise<{ status: number }>;

const sendWithGot: SendWebhook = async (url, request) => {
  const response = await got.post(url, {
    body: request.body,
    headers: request.headers,
    dnsLookup: request.lookup,
    timeout: { request: request.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    // A redirect is an answer, never followed: it could point anywhere the guard refuses.
    followRedirect: false,
  });
  return { status: response.statusCode };
};

export interface DeliveryDeps {
  store: WebhookStore;
  /** Checks the receiver (and what its name resolves to) before every attempt. */
  guard: DestinationGuard;
  send?: SendWebhook | undefined;
  clock: Clock;
  log: Logger;
  settings: DeliverySettings;
}

/** One POST of a delivery: the signature is made per attempt, over its own timestamp. */
async function attemptDelivery(
  deps: DeliveryDeps,
  url: string,
  secret: string,
  delivery: Delivery,
): Promise<DeliveryAttempt> {
  const at = deps.clock.now();
  const timestamp = Math.floor(at / 1000);
  try {
    const addresses = await deps.guard.resolve(url);
    const response = await (deps.send ?? sendWithGot)(url, {
      body: delivery.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fleetscan-webhooks',
        [WEBHOOK_HEADERS.id]: delivery.eventId,
        [WEBHOOK_HEADERS.event]: delivery.type,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: signWebhook(secret, timestamp, delivery.body),
      },
      timeoutMs: deps.settings.timeoutMs,
      lookup: pinnedLookup(addresses),
    });
    return { at, status: response.status, error: null, durationMs: deps.clock.now() - at };
  } catch (error) {
    if (error instanceof DestinationRefusedError) {
      return { at, status: null, error: `${error.code}: ${error.message}`, durationMs: 0 };
    }
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : (error as Error).message;
    return { at, status: null, error: reason, durationMs: deps.clock.now() - at };
  }
}

/**
 * The drain of one subscription's outbox, oldest first, one delivery at a time. A 2xx moves on;
 * anything else is recorded and the job waits (delayed, doubling up to the cap) before trying the
 * same delivery again, so later events never overtake it. After `attempts` tries it is marked
 * `failed` (visible with every attempt) and the drain goes on with the next.
 */
export function createDrainProcessor(deps: DeliveryDeps) {
  const { store, settings } = deps;
  return async (job: Job<DrainJobData>, token?: string): Promise<void> => {
    const { subscriptionId } = job.data;
    for (;;) {
      const delivery = await store.head(subscriptionId);
      if (!delivery) return;
      const subscription = await store.get(subscriptionId);
      // Unsubscribed while this drain ran: `unsubscribe` deleted the outbox and records.
      if (!subscription) return;
      const attempt = await attemptDelivery(deps, subscription.url, subscription.secret, delivery);
      const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
      // A refused receiver stays refused: no retries that could only be refused again.
      const refused = attempt.error?.startsWith('destination-refused') ?? false;
      const exhausted = refused || delivery.attempts.length + 1 >= settings.attempts;
      await store.recordAttempt(delivery, attempt, ok ? 'delivered' : exhausted ? 'failed' : null);
      if (ok) continue;
      const log = deps.log.child({ subscriptionId, eventId: delivery.eventId });
      if (exhausted) {
        log.warn({ attempts: delivery.attempts.length }, 'webhook delivery given up');
        continue;
      }
      const wait = retryDelay(delivery.attempts.length, settings.backoffMs, settings.backoffCapMs);
      log.info(
        { status: attempt.status, error: attempt.error, retryInMs: wait },
        'webhook delivery failed',
      );
      await job.moveToDelayed(deps.clock.now() + wait, token);
      throw new DelayedError();
    }
  };
}

/** The BullMQ worker delivering webhooks; `close()` lets a delivery in flight finish. */
export function startWebhookWorker(
  deps: DeliveryDeps & { connection: Redis; prefix: string },
): Worker<DrainJobData> {
  const worker = new Worker<DrainJobData>(WEBHOOK_QUEUE_NAME, createDrainProcessor(deps), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.settings.concurrency,
  });
  worker.on('error', (error) => {
    deps.log.warn({ reason: error.message }, 'webhook worker error');
  });
  return worker;
}
