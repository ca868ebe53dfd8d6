import { readFileSync } from 'node:fs';
import { Cluster, Redis as SingleRedis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redactUrl } from './redact-url.js';
import {
  isClusterUrl,
  parseClusterNode,
  parseClusterUrl,
  type ClusterNode,
} from './redis-cluster-target.js';

/**
 * A connection to one Redis server or to a Redis Cluster. Both run the same commands; code that
 * needs a server-wide view (SCAN, INFO) asks `clusterMasters` for the servers to ask.
 */
export type Redis = SingleRedis | Cluster;

/** Where Redis is and how to prove who we are: `config.redis`, or a bare URL. */
export interface RedisTarget {
  readonly url: string;
  /**
   * Seed nodes (`host:port`) of a Redis Cluster; when set, `url` only decides TLS (rediss) and may
   * carry credentials. A `redis+cluster://` URL names a cluster on its own.
   */
  readonly cluster?: readonly string[] | null | undefined;
  /** ACL user; overrides one in the URL. */
  readonly username?: string | undefined;
  /** Overrides one in the URL; from REDIS_PASSWORD or a file (config/load.ts). */
  readonly password?: string | undefined;
  readonly tls?:
    | {
        /** PEM of the CA that signed Redis's certificate (a private CA or a self-signed one). */
        readonly caFile?: string | undefined;
        /** Client certificate and key, for a Redis that asks for them (`tls-auth-clients yes`). */
        readonly certFile?: string | undefined;
        readonly keyFile?: string | undefined;
      }
    | undefined;
}

export interface RedisConnectOptions {
  /** BullMQ workers need `maxRetriesPerRequest: null` on their blocking connections. */
  forBullmq?: boolean;
  /** Fail the first command fast instead of queueing it while Redis is down (CLI commands). */
  failFast?: boolean;
  connectionName?: string;
}

/** One place where ioredis connections are made, so every one has the same settings. */
export function createRedis(
  target: string | RedisTarget,
  options: RedisConnectOptions = {},
): Redis {
  const settings: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const nodes = clusterNodesOf(settings);
  if (nodes) return createCluster(settings, nodes, options);
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: true,
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
    ...(options.failFast
      ? { maxRetriesPerRequest: 1, retryStrategy: (times: number) => (times > 2 ? null : 200) }
      : { retryStrategy: (times: number) => Math.min(times * 200, 5_000) }),
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    ...tlsOptions(settings),
  };
  return new SingleRedis(settings.url, redisOptions);
}

/** True when `target` names a Redis Cluster (`redis.cluster` or a `redis+cluster://` URL). */
export function isClusterTarget(target: string | RedisTarget): boolean {
  return clusterNodesOf(typeof target === 'string' ? { url: target } : target) !== null;
}

function clusterNodesOf(settings: RedisTarget): ClusterNode[] | null {
  if (settings.cluster && settings.cluster.length > 0)
    return settings.cluster.map(parseClusterNode);
  return isClusterUrl(settings.url) ? parseClusterUrl(settings.url).nodes : null;
}

/**
 * The same settings as a single connection, given to every node connection of the cluster.
 * Retries live at the cluster level (`clusterRetryStrategy`); MOVED/ASK redirections and a
 * failover (a replica promoted) are followed by ioredis, which refreshes its slot map.
 */
function createCluster(
  settings: RedisTarget,
  nodes: ClusterNode[],
  options: RedisConnectOptions,
): Cluster {
  const fromUrl = isClusterUrl(settings.url) ? parseClusterUrl(settings.url) : null;
  const username = settings.username ?? fromUrl?.username;
  const password = settings.password ?? fromUrl?.password;
  const clusterOptions: ClusterOptions = {
    lazyConnect: false,
    // Off on a cluster: an auto-pipelined batch mixes keys of several slots of one node, and
    // ioredis retries a batch after MOVED only when every error in it is the same, so during a
    // failover the commands would fail instead of following the slots to the new master.
    enableAutoPipelining: false,
    enableReadyCheck: true,
    // A failover takes a node timeout or two (15 s by default): a command retries its slot
    // meanwhile, up to about 40 s like a command waiting out a single server's restart, instead
    // of failing after ioredis's 16 tries (a few seconds) and costing a device an attempt.
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 400,
    ...(options.failFast
      ? { clusterRetryStrategy: (times: number) => (times > 2 ? null : 200) }
      : {
          clusterRetryStrategy: (times: number) => Math.min(times * 200, 5_000),
          maxRedirections: 100,
        }),
    redisOptions: {
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
      ...(options.forBullmq ? { maxRetriesPerRequest: null } : {}),
      ...(options.failFast ? { maxRetriesPerRequest: 1 } : {}),
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...tlsOptions(settings),
    },
  };
  return new Cluster(nodes, clusterOptions);
}

export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster;
}

/** A second connection with the same settings (a subscriber must have its own). */
export function duplicateRedis(redis: Redis, connectionName: string): Redis {
  if (!(redis instanceof Cluster)) return redis.duplicate({ connectionName });
  return redis.duplicate(undefined, {
    redisOptions: { ...redis.options.redisOptions, connectionName },
  });
}

/**
 * The servers that hold the keys: the masters of a cluster, or the one server. Whatever walks
 * the whole keyspace (SCAN) or reads server facts (INFO, CONFIG) asks each of them.
 */
export function clusterMasters<T extends object>(redis: T): (T | SingleRedis)[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

function tlsOptions(settings: RedisTarget): Pick<RedisOptions, 'tls'> {
  const files = settings.tls ?? {};
  const wantsTls = /^rediss(\+cluster)?:\/\//.test(settings.url);
  if (!wantsTls) return {};
  return {
    tls: {
      ...(files.caFile ? { ca: readFileSync(files.caFile) } : {}),
      ...(files.certFile ? { cert: readFileSync(files.certFile) } : {}),
      ...(files.keyFile ? { key: readFileSync(files.keyFile) } : {}),
    },
  };
}

/** Strips the password from a Redis URL so it can be logged or printed. */
export function describeRedisUrl(url: string): string {
  if (isClusterUrl(url)) return redactUrl(url);
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>';
  }
}
