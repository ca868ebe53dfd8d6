import type { TenantAuthSettings } from '../auth/tenant-auth.js';
import { tenantTokenProvider } from '../auth/tenant-token-provider.js';
import type { Config } from '../config/schema.js';
import { limiterFromConfig } from './api-from-config.js';
import type { Logger } from '../shared/logger.js';
import { createRedis, type Redis } from '../shared/redis.js';
import type { CheckResult } from '../ops/doctor/check-result.js';
import { checkConfig } from '../ops/doctor/config-checks.js';
import { checkRedis } from '../ops/doctor/redis-checks.js';
import { checkGraph } from '../ops/doctor/graph-checks.js';
import { graphClientFromConfig } from './hunting-from-config.js';
import { tenantConfigOf } from '../tenants/tenant-registry.js';
import { checkTenant } from '../ops/doctor/tenant-checks.js';
import { judgeBreaker, judgeThrottling } from '../ops/doctor/throttling-checks.js';
import { blockedReport } from '../lanes/blocked-tenants.js';
import { parseBlocked } from '../lanes/budget-breaker.js';
import { laneKeys } from '../lanes/lane-keys.js';
import { redisTimeMs } from '../shared/redis-time.js';
import { redactUrlsIn } from '../shared/redact-url.js';

export interface DoctorInput {
  file: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Picks the tenants to check from the configuration (today: the `default` one). */
  tenants: (config: Config) => TenantAuthSettings[];
  log: (config: Config) => Logger;
  now?: () => number;
}

/** Every check, in report order: configuration, Redis, then each tenant and its budget. */
export async function runDoctor(input: DoctorInput): Promise<CheckResult[]> {
  // Doctor output is pasted into tickets: whatever a check quoted (an error message, a value),
  // no password inside a URL leaves this function.
  return (await runChecks(input)).map(redactResult);
}

function redactResult(result: CheckResult): CheckResult {
  return {
    ...result,
    summary: redactUrlsIn(result.summary),
    ...(result.fix === undefined ? {} : { fix: redactUrlsIn(result.fix) }),
  };
}

async function runChecks(input: DoctorInput): Promise<CheckResult[]> {
  const now = input.now ?? Date.now;
  const { config, results } = checkConfig({ file: input.file, env: input.env });
  if (!config) return results;
  const log = input.log(config);
  const redis = await connect(config);
  try {
    results.push(...(await checkRedis({ redis, config, now })));
    for (const tenant of input.tenants(config)) {
      // Per tenant: today the one budget of the configured app; with tenants (issue 10) each
      // tenant brings its own settings and budget id.
      const limiter = redis instanceof Error ? undefined : limiterFromConfig(config, redis, log);
      results.push(
        ...(await checkTenant({
          tenant,
          makeTokens: () => tenantTokenProvider(tenant, { log, retries: 0 }),
          gate: limiter ?? (redis as Error),
          log,
          now,
          verify: false,
        })),
      );
      const tenantConfig = tenantConfigOf(config, tenant.name);
      const graph = await checkGraph({
        config: tenantConfig,
        graph:
          redis instanceof Error
            ? undefined
            : () => graphClientFromConfig(tenantConfig, redis, log),
        now,
      });
      results.push({ ...graph, tenant: tenant.name });
      if (limiter && !(redis instanceof Error)) {
        const redisNow = await redisTimeMs(redis);
        results.push(...judgeThrottling(tenant.name, await limiter.usage(), redisNow));
        const breakerKey = laneKeys(config.redis.prefix, limiter.slotsOf('scan').keys.tag).breaker;
        const blocked = parseBlocked(await redis.hgetall(breakerKey));
        results.push(judgeBreaker(tenant.name, blockedReport(blocked)));
      }
    }
  } finally {
    if (!(redis instanceof Error)) {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    }
  }
  return results;
}

/** A connection that answers PING within 5 s, or the reason it does not. */
async function connect(config: Config): Promise<Redis | Error> {
  const redis = createRedis(config.redis, {
    failFast: true,
    connectionName: 'fleetscan-doctor',
  });
  redis.on('error', () => undefined); // reported once, as a check
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) =>
        setTimeout(() => {
          reject(new Error('no answer within 5 s'));
        }, 5_000).unref(),
      ),
    ]);
    return redis;
  } catch (error) {
    redis.disconnect();
    return error instanceof Error ? error : new Error(String(error));
  }
}
