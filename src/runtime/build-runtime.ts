import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_TENANT } from '../campaigns/campaign.js';
import { createCampaignStore, type RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import type { Config } from '../config/schema.js';
import type { DefenderClient } from '../defender/client.js';
import { createLanes, type Lanes } from '../lanes/lanes.js';
import type { ScanLimiter } from '../limiter/scan-limiter.js';
import { CALL_STATS_FLUSH_MS, createCallStats, type CallStats } from '../metrics/call-stats.js';
import { timelineBucketMs } from '../metrics/call-timeline.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createRedis, type Redis } from '../shared/redis.js';
import { createTenantRegistry, type TenantRegistry } from '../tenants/tenant-registry.js';
import { clientFromConfig, limiterFromConfig } from './api-from-config.js';
import { assertNoEviction, waitForRedis, watchRedis } from './redis-checks.js';
import { breakerSettings } from '../lanes/budget-breaker.js';
import { assertStoreSchema, readStoreSchema, schemaRefusal } from '../ops/store-schema.js';

export interface RuntimeOptions {
  /** Process role, in logs and Redis `CLIENT LIST`: `worker`, `demo`, `dashboard`, `bench`. */
  role: string;
  log?: Logger;
  clock?: Clock;
  /** How long to keep retrying a Redis that does not answer at start. Default 60 s. */
  redisStartupTimeoutMs?: number;
  /** Aborts the wait for Redis at start-up (SIGTERM while Redis is down). */
  signal?: AbortSignal;
}

/** The Defender side of a runtime: built on first use, since only some roles need credentials. */
export interface RuntimeApi {
  client: DefenderClient;
}

/** Everything a long-running fleetscan process uses, built once from a Config. */
export interface Runtime {
  config: Config;
  log: Logger;
  clock: Clock;
  /** Commands: campaign store, limiter, call stats, locks. */
  redis: Redis;
  /**
   * BullMQ's (no per-command retry limit, as BullMQ requires for workers), opened on first use:
   * only the API's webhook queue needs it, so scan workers never open it.
   */
  readonly bullConnection: Redis;
  callStats: CallStats;
  /** Every configured tenant's budget and client; one pool of workers serves them all. */
  tenants: TenantRegistry;
  /**
   * The `default` tenant's budget (the single tenant of the MDE_* variables); the first listed
   * tenant's when only a `tenants:` list is configured.
   */
  limiter: ScanLimiter;
  /** Every budget's line of waiting devices (what `scan` fills and workers dispatch from). */
  lanes: Lanes;
  store: RedisCampaignStore;
  /** Token provider and client; throws ConfigError when credentials are not configured. */
  api(): RuntimeApi;
  /** Closes its connections; safe to call twice. */
  close(): Promise<void>;
}

/** How long `close()` waits for Redis to acknowledge QUIT. */
const QUIT_WAIT_MS = 2_000;

/**
 * Builds the runtime of a worker, the demo, the dashboard or the benchmark: a Redis connection
 * (waited for with backoff, refused when they may evict keys unless configured otherwise), logger,
 * shared call statistics, limiter, campaign store and lanes; the API client on demand.
 */
export async function buildRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const log =
    options.log ?? createLogger({ level: config.log.level, name: `fleetscan-${options.role}` });
  const clock = options.clock ?? systemClock;
  const redis = createRedis(config.redis, { connectionName: `fleetscan-${options.role}` });
  let bullConnection: Redis | undefined;
  const openBullConnection = () => {
    const connection = createRedis(config.redis, {
      forBullmq: true,
      connectionName: `fleetscan-${options.role}-bullmq`,
    });
    watchRedis(connection, log, 'queue');
    return connection;
  };
  watchRedis(redis, log, 'commands');
  const disconnect = () => {
    redis.disconnect();
    bullConnection?.disconnect();
  };

  try {
    await waitForRedis(redis, {
      url: config.redis.url,
      log,
      timeoutMs: options.redisStartupTimeoutMs ?? 60_000,
      signal: options.signal,
    });
    await assertNoEviction(redis, config.redis.requireNoEviction, log);
    // An older process against a newer store, or a newer one against an older store: one
    // sentence, before anything is written.
    await assertStoreSchema(redis, config.redis.prefix, 'write');
    watchStoreSchema(redis, config.redis.prefix, log);
  } catch (error) {
    disconnect();
    throw error;
  }

  const prefix = config.redis.prefix;
  // A long-running process: call counts go to Redis once a second, and once more at close.
  const callStats = createCallStats(redis, prefix, {
    timelineBucketMs: timelineBucketMs(config.limits.windows),
    flushMs: CALL_STATS_FLUSH_MS,
  });
  let tenants: TenantRegistry;
  try {
    tenants = createTenantRegistry(config, {
      redis,
      callStats,
      log,
      limiterFromConfig,
      clientFromConfig,
    });
  } catch (error) {
    // Open connections would keep the process alive after its error was printed.
    disconnect();
    throw error;
  }
  // `default` when configured, else the first listed tenant: a deployment of listed tenants
  // only has no `default`, and every process must still start.
  const primary = tenants.list()[0] ?? tenants.get(DEFAULT_TENANT);
  const limiter = primary.limiter;
  const store = createCampaignStore(redis, prefix);
  const lanes = createLanes({
    redis,
    prefix,
    tenants,
    reserve: config.limits.reserve,
    deviceLeaseMs: config.worker.lockDuration,
    breaker: breakerSettings(config),
    clock,
  });

  let api: RuntimeApi | undefined;
  let closed: Promise<void> | undefined;
  return {
    config,
    log,
    clock,
    redis,
    get bullConnection() {
      bullConnection ??= openBullConnection();
      return bullConnection;
    },
    callStats,
    tenants,
    limiter,
    lanes,
    store,
    api() {
      if (api) return api;
      api = { client: primary.client() };
      return api;
    },
    close() {
      closed ??= (async () => {
        tenants.close();
        // The calls counted since the last flush (bounded: an outage never answers).
        await callStats.flush();
        // QUIT waits for a connection that is not there during an outage: give it a moment,
        // then cut the connections anyway (a process that gave up on Redis must still exit).
        await Promise.race([
          Promise.allSettled([redis.quit(), bullConnection?.quit()]),
          delay(QUIT_WAIT_MS),
        ]);
        disconnect();
      })();
      return closed;
    },
  };
}

/**
 * Checks the store's schema again on every reconnect: a Redis restored from another version's
 * snapshot, or migrated by a newer fleetscan, while this process ran. Stops the process (SIGTERM,
 * so work in flight is recorded first) with one sentence rather than writing a layout it misreads.
 */
function watchStoreSchema(redis: Redis, prefix: string, log: Logger): void {
  // Registered once the first connection is up: every 'ready' from here on is a reconnect.
  redis.on('ready', () => {
    readStoreSchema(redis, prefix).then(
      (schema) => {
        const refusal = schemaRefusal(schema, 'write');
        if (!refusal) return;
        log.fatal(refusal);
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      },
      () => undefined, // the next reconnect checks again
    );
  });
}
