import type { Redis } from '../../shared/redis.js';
import { listWorkers, WORKER_HEARTBEAT_MS } from '../worker-presence.js';
import { checkStoreIdentity } from '../store-identity.js';
import { readStoreSchema } from '../store-schema.js';
import type { Config } from '../../config/schema.js';
import { describeRedisUrl } from '../../shared/redis.js';
import { assessMemory, parseMemoryInfo } from '../../retention/memory-headroom.js';
import { fail, ok, type CheckResult } from './check-result.js';
import {
  judgeClockSkew,
  judgeEviction,
  judgeMemory,
  judgePersistence,
  judgeTransport,
  judgeVersion,
  judgeStoreIdentity,
  judgeStoreSchema,
  judgeWorkers,
  parseInfo,
} from './redis-judgements.js';
import { redisTimeMs } from '../../shared/redis-time.js';

export interface RedisCheckDeps {
  /** A connected client, or the reason there is none. */
  redis: Redis | Error;
  config: Pick<Config, 'redis' | 'scan' | 'retention'>;
  /** This host's clock (ms). */
  now: () => number;
}

/**
 * Redis as fleetscan needs it: reachable, recent, never evicting, persistent, protected, on time,
 * holding this prefix's store, with workers listening. Each judgement is a pure function
 * (`redis-judgements.ts`); this only gathers the facts.
 */
export async function checkRedis(deps: RedisCheckDeps): Promise<CheckResult[]> {
  const { config } = deps;
  const where = describeRedisUrl(config.redis.url);
  if (deps.redis instanceof Error) {
    return [
      fail(
        'redis',
        'redis.reachable',
        `Redis unreachable at ${where} (${deps.redis.message})`,
        'Start Redis or point REDIS_URL at it.',
      ),
    ];
  }
  const redis = deps.redis;
  const sent = deps.now();
  const redisMs = await redisTimeMs(redis);
  const received = deps.now();
  const results: CheckResult[] = [
    ok('redis', 'redis.reachable', `Redis reachable at ${where} (${String(received - sent)} ms)`),
  ];
  const [server, memory, persistence] = await Promise.all([
    redis.info('server'),
    redis.info('memory'),
    redis.info('persistence'),
  ]);
  const serverInfo = parseInfo(server);
  results.push(judgeVersion(serverInfo.get('redis_version')));
  results.push(judgeEviction(parseInfo(memory).get('maxmemory_policy')));
  results.push(judgeMemory(assessMemory(parseMemoryInfo(memory), config.retention.memory)));
  const save = await redis.call('CONFIG', 'GET', 'save').then(
    (reply) => (Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined),
    () => undefined,
  );
  results.push(judgePersistence(parseInfo(persistence), save));
  // ACL WHOAMI exists from Redis 6; an older or restricted server simply has no answer here.
  const aclUser = await redis.call('ACL', 'WHOAMI').then(
    (user) => (typeof user === 'string' ? user : undefined),
    () => undefined,
  );
  results.push(
    judgeTransport(
      config.redis.url,
      aclUser,
      config.redis.cluster,
      config.redis.password !== undefined,
    ),
  );
  results.push(judgeClockSkew((sent + received) / 2 - redisMs));

  const prefix = config.redis.prefix;
  const campaigns = await redis.zcard(`${prefix}:campaigns`);
  const runId = serverInfo.get('run_id')?.slice(0, 12) ?? 'unknown';
  const uptime = Number(serverInfo.get('uptime_in_seconds') ?? 0);
  results.push(
    ok(
      'redis',
      'redis.store',
      `store: prefix ${prefix}, ${String(campaigns)} campaign${campaigns === 1 ? '' : 's'}, Redis run_id ${runId}… up ${formatUptime(uptime)}`,
    ),
  );
  const workers = await listWorkers(redis, prefix, { intervalMs: WORKER_HEARTBEAT_MS });
  results.push(judgeWorkers(workers.length));
  results.push(judgeStoreIdentity(await checkStoreIdentity(redis, prefix)));
  results.push(judgeStoreSchema(await readStoreSchema(redis, prefix)));
  return results;
}

function formatUptime(seconds: number): string {
  if (seconds < 120) return `${String(seconds)} s`;
  if (seconds < 7_200) return `${String(Math.floor(seconds / 60))} min`;
  if (seconds < 172_800) return `${String(Math.floor(seconds / 3_600))} h`;
  return `${String(Math.floor(seconds / 86_400))} d`;
}
