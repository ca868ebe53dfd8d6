import { randomBytes } from 'node:crypto';
import type { Redis } from '../shared/redis.js';
import {
  subscriptionMatches,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookFormat,
  type WebhookSubscription,
} from './webhook-event.js';
import { formatDelivery } from './webhook-format.js';

/** One try to deliver: when, what came back (or why nothing did), how long it took. */
export interface DeliveryAttempt {
  at: number;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** One event for one subscription, with every attempt made. */
export interface Delivery {
  sequence: number;
  subscriptionId: string;
  eventId: string;
  type: WebhookEventType;
  createdAt: number;
  state: DeliveryState;
  /** The exact bytes sent (and signed) on every attempt. */
  body: string;
  attempts: DeliveryAttempt[];
}

interface StoredSubscription extends WebhookSubscription {
  secret: string;
}

export interface WebhookStore {
  /** `format` defaults to `json`, the signed event. */
  subscribe(
    input: Omit<WebhookSubscription, 'id' | 'format'> & { format?: WebhookFormat },
  ): Promise<{ subscription: WebhookSubscription; secret: string }>;
  get(id: string): Promise<(WebhookSubscription & { secret: string }) | null>;
  list(): Promise<WebhookSubscription[]>;
  /** Stops deliveries and deletes the subscription's outbox, delivery records and sequence. */
  unsubscribe(id: string): Promise<boolean>;
  /**
   * Fans one event out to the matching subscriptions (outbox + delivery record each). Returns the
   * subscriptions that got it; none when the event was emitted before (same id).
   */
  emit(event: WebhookEvent): Promise<string[]>;
  /** The oldest pending delivery of a subscription, or null when its outbox is empty. */
  head(subscriptionId: string): Promise<Delivery | null>;
  /** Saves an attempt; `final` moves the delivery out of the outbox. */
  recordAttempt(
    delivery: Delivery,
    attempt: DeliveryAttempt,
    final: DeliveryState | null,
  ): Promise<void>;
  deliveries(subscriptionId: string, options?: { limit?: number }): Promise<Delivery[]>;
  /** Subscriptions with something waiting in their outbox (for the drain sweep). */
  withBacklog(): Promise<string[]>;
  /** Attempts by outcome (`delivered`, `retry`, `failed`) since the store began: `/metrics`. */
  attemptCounts(): Promise<Record<string, number>>;
}

/** How long an event id is remembered, so a late second emit of the same fact sends nothing. */
const EVENT_MEMORY_SEC = 30 * 24 * 3600;
/** Delivery records kept per subscription (newest), with their attempts. */
const KEEP_DELIVERIES = 1_000;

/**
 * Subscriptions, outboxes and delivery records in Redis under `${prefix}:webhooks:`. Each
 * subscription has an outbox (a list of sequence numbers) drained strictly in order, one delivery
 * at a time, so a receiver sees its events in the order they happened even across retries.
 */
export function createWebhookStore(redis: Redis, prefix: string): WebhookStore {
  const base = `${prefix}:webhooks`;
  const subsKey = `${base}:subscriptions`;
  const backlogKey = `${base}:backlog`;
  const attemptsKey = `${base}:attempts`;
  // One hash tag per subscription: its outbox and delivery records change together in MULTI,
  // which a Redis Cluster allows within one slot only.
  const outboxKey = (id: string) => `${base}:outbox:{${id}}`;
  const deliveriesKey = (id: string) => `${base}:deliveries:{${id}}`;
  const seqKey = (id: string) => `${base}:seq:${id}`;
  const eventKey = (id: string) => `${base}:event:${id}`;
  const publicPart = ({ secret: _secret, ...sub }: StoredSubscription): WebhookSubscription => sub;

  // Subscriptions stored before formats existed have none: they always got the signed JSON.
  const parseStored = (json: string): StoredSubscription => {
    const stored = JSON.parse(json) as Omit<StoredSubscription, 'format'> & {
      format?: WebhookFormat;
    };
    return { ...stored, format: stored.format ?? 'json' };
  };

  const listStored = async () =>
    Object.values(await redis.hgetall(subsKey))
      .map(parseStored)
      .sort((a, b) => a.createdAt - b.createdAt);

  const readDelivery = async (subscriptionId: string, sequence: string) => {
    const json = await redis.hget(deliveriesKey(subscriptionId), sequence);
    return json === null ? null : (JSON.parse(json) as Delivery);
  };

  return {
    async subscribe(input) {
      const stored: StoredSubscription = {
        ...input,
        format: input.format ?? 'json',
        id: `wh-${randomBytes(5).toString('hex')}`,
        secret: `whsec_${randomBytes(32).toString('base64url')}`,
      };
      await redis.hset(subsKey, stored.id, JSON.stringify(stored));
      return { subscription: publicPart(stored), secret: stored.secret };
    },
    async get(id) {
      const json = await redis.hget(subsKey, id);
      return json === null ? null : parseStored(json);
    },
    async list() {
      return (await listStored()).map(publicPart);
    },
    async unsubscribe(id) {
      const removed = (await redis.hdel(subsKey, id)) > 0;
      // Separate commands: the keys live in different Cluster slots. A drain running now finds
      // the subscription gone and records nothing it could keep.
      await redis.del(outboxKey(id));
      await redis.del(deliveriesKey(id));
      await redis.del(seqKey(id));
      await redis.srem(backlogKey, id);
      return removed;
    },
    async emit(event) {
      // Checked first and marked last: a crash in between sends the event again (receivers
      // dedupe on its id) rather than never.
      if ((await redis.exists(eventKey(event.id))) === 1) return [];
      const targets = (await listStored()).filter((sub) => subscriptionMatches(sub, event));
      for (const sub of targets) {
        const sequence = await redis.incr(seqKey(sub.id));
        const delivery: Delivery = {
          sequence,
          subscriptionId: sub.id,
          eventId: event.id,
          type: event.type,
          createdAt: event.occurredAt,
          state: 'pending',
          body: formatDelivery(sub.format, event, sequence),
          attempts: [],
        };
        await redis
          .multi()
          .hset(deliveriesKey(sub.id), String(sequence), JSON.stringify(delivery))
          .rpush(outboxKey(sub.id), String(sequence))
          .exec();
        // The backlog is another slot; `head` re-checks the outbox, so a marker added late
        // (or twice) changes nothing.
        await redis.sadd(backlogKey, sub.id);
      }
      await redis.set(eventKey(event.id), '1', 'EX', EVENT_MEMORY_SEC);
      return targets.map((sub) => sub.id);
    },
    async head(subscriptionId) {
      for (;;) {
        const sequence = await redis.lindex(outboxKey(subscriptionId), 0);
        if (sequence === null) {
          await redis.srem(backlogKey, subscriptionId);
          // An emit may have landed between the two calls: keep the marker if so.
          if ((await redis.llen(outboxKey(subscriptionId))) > 0) {
            await redis.sadd(backlogKey, subscriptionId);
            continue;
          }
          return null;
        }
        const delivery = await readDelivery(subscriptionId, sequence);
        if (delivery?.state === 'pending') return delivery;
        await redis.lrem(outboxKey(subscriptionId), 1, sequence);
      }
    },
    async recordAttempt(delivery, attempt, final) {
      delivery.attempts.push(attempt);
      if (final) delivery.state = final;
      // Written back only while the subscription exists, so an unsubscribe leaves nothing behind
      // (the attempt was made all the same, and is counted below).
      if ((await redis.hexists(subsKey, delivery.subscriptionId)) === 1) {
        const multi = redis
          .multi()
          .hset(
            deliveriesKey(delivery.subscriptionId),
            String(delivery.sequence),
            JSON.stringify(delivery),
          );
        if (final) multi.lrem(outboxKey(delivery.subscriptionId), 1, String(delivery.sequence));
        const old = delivery.sequence - KEEP_DELIVERIES;
        if (final && old > 0) multi.hdel(deliveriesKey(delivery.subscriptionId), String(old));
        await multi.exec();
      }
      // Outside the MULTI: the counter lives in another Cluster slot than the subscription.
      await redis.hincrby(attemptsKey, final ?? 'retry', 1);
    },
    async attemptCounts() {
      const counts = await redis.hgetall(attemptsKey);
      return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)]));
    },
    async deliveries(subscriptionId, options = {}) {
      const all = Object.values(await redis.hgetall(deliveriesKey(subscriptionId))).map(
        (json) => JSON.parse(json) as Delivery,
      );
      return all.sort((a, b) => b.sequence - a.sequence).slice(0, options.limit ?? 100);
    },
    async withBacklog() {
      return redis.smembers(backlogKey);
    },
  };
}
