import type { MemoryHeadroom } from '../../retention/memory-headroom.js';
import type { StoreVerdict } from '../store-identity.js';
import { STORE_SCHEMA, type StoreSchema } from '../store-schema.js';
import { fail, ok, warn, type CheckResult } from './check-result.js';
import {
  isClusterUrl,
  parseClusterNode,
  parseClusterUrl,
} from '../../shared/redis-cluster-target.js';

/** BullMQ 5 needs Redis 6.2 or later (it says so at start-up and some commands need it). */
const MIN_VERSION = [6, 2, 0] as const;

/** Reads `field:value` lines of an INFO section. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

export function judgeVersion(version: string | undefined): CheckResult {
  const parts = (version ?? '').split('.').map(Number);
  const older = MIN_VERSION.findIndex((min, i) => (parts[i] ?? 0) !== min);
  const tooOld =
    version === undefined || (older >= 0 && (parts[older] ?? 0) < (MIN_VERSION[older] ?? 0));
  return tooOld
    ? fail(
        'redis',
        'redis.version',
        `Redis version ${version ?? 'unknown'} (BullMQ needs 6.2 or later)`,
        'Upgrade Redis to 6.2 or later (7.x recommended).',
      )
    : ok('redis', 'redis.version', `Redis version ${version}`);
}

export function judgeEviction(policy: string | undefined): CheckResult {
  return policy === 'noeviction'
    ? ok('redis', 'redis.eviction', 'maxmemory-policy is noeviction: keys are never dropped')
    : fail(
        'redis',
        'redis.eviction',
        `maxmemory-policy is ${policy ?? 'unknown'}: under memory pressure Redis drops jobs and campaign records silently`,
        'Run CONFIG SET maxmemory-policy noeviction and put maxmemory-policy noeviction in redis.conf.',
      );
}

/**
 * `save`: the server's `save` setting (`CONFIG GET save`), '' when snapshots are off, undefined
 * when CONFIG is not allowed (managed Redis), which leaves only AOF to judge by.
 */
export function judgePersistence(
  info: ReadonlyMap<string, string>,
  save: string | undefined,
): CheckResult {
  if (info.get('aof_enabled') === '1') {
    return ok('redis', 'redis.persistence', 'persistence: AOF on');
  }
  const what =
    save === undefined
      ? 'AOF off'
      : save === ''
        ? 'AOF off and no RDB snapshots: a Redis restart loses every job and campaign'
        : `AOF off (RDB snapshots only: save ${save}): a Redis restart loses the changes since the last snapshot`;
  return warn(
    'redis',
    'redis.persistence',
    `persistence: ${what}`,
    'Run CONFIG SET appendonly yes and set appendonly yes in redis.conf.',
  );
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/i;

/** TLS, a password and the hosts, from a plain or a `redis+cluster://` URL and `redis.cluster`. */
function transportOf(url: string, clusterNodes: readonly string[] | null | undefined) {
  if (isClusterUrl(url)) {
    const cluster = parseClusterUrl(url);
    return {
      tls: cluster.tls,
      password: cluster.password !== undefined,
      hosts: cluster.nodes.map((node) => node.host),
    };
  }
  const parsed = new URL(url);
  return {
    tls: parsed.protocol === 'rediss:',
    password: parsed.password !== '',
    hosts: clusterNodes?.length
      ? clusterNodes.map((node) => parseClusterNode(node).host)
      : [parsed.hostname],
  };
}

/**
 * TLS and AUTH/ACL from the URL (or cluster nodes), the configured password (REDIS_PASSWORD,
 * `redis.passwordFile`: the client sends AUTH with it even when the URL has none) and the
 * server's answer to ACL WHOAMI.
 */
export function judgeTransport(
  url: string,
  aclUser: string | undefined,
  clusterNodes?: readonly string[] | null,
  configuredPassword = false,
): CheckResult {
  const { tls, password, hosts } = transportOf(url, clusterNodes);
  const auth = password || configuredPassword || (aclUser !== undefined && aclUser !== 'default');
  const who = aclUser === undefined ? '' : ` as ACL user ${aclUser}`;
  const summary = `${tls ? 'TLS on' : 'TLS off'}, ${auth ? `AUTH in use${who}` : 'no AUTH'}`;
  if (tls && auth) return ok('redis', 'redis.transport', summary);
  if (hosts.every((host) => LOOPBACK.test(host))) {
    return ok('redis', 'redis.transport', `${summary} (loopback only)`);
  }
  return warn(
    'redis',
    'redis.transport',
    `${summary} on a network address: anyone on the path can read or change campaigns`,
    'Use a rediss:// URL with a user and password (Redis ACL) in REDIS_URL.',
  );
}

/** `skewMs`: this host's clock minus Redis TIME (half the round trip taken off). */
export function judgeClockSkew(skewMs: number): CheckResult {
  const shown = `${(skewMs / 1000).toFixed(1)} s`;
  const summary = `clock skew between this host and Redis TIME: ${shown}`;
  if (Math.abs(skewMs) <= 2_000) return ok('redis', 'redis.clock', summary);
  const fix =
    'Run NTP (chrony or systemd-timesyncd) on this host and the Redis host so their clocks agree.';
  // The limiter reads Redis TIME, but campaign times (and the API's creationDateTimeUtc filter
  // the worker uses to find its own actions) come from this host.
  return Math.abs(skewMs) <= 60_000
    ? warn('redis', 'redis.clock', summary, fix)
    : fail('redis', 'redis.clock', summary, fix);
}

export function judgeWorkers(count: number): CheckResult {
  return count > 0
    ? ok('redis', 'redis.workers', `live worker processes: ${String(count)}`)
    : warn(
        'redis',
        'redis.workers',
        'live worker processes: none, so queued devices wait',
        'Start at least one worker: fleetscan worker (or docker compose up -d worker).',
      );
}

/**
 * Redis memory against `retention.memory`: ⚠ above `warnAt`, ✖ from `refuseAt` on (where `scan`
 * refuses new campaigns); the summary says how many more devices fit.
 */
export function judgeMemory(headroom: MemoryHeadroom): CheckResult {
  const fix =
    'Archive ended campaigns now with `fleetscan prune` (or lower retention.keep), or raise Redis maxmemory.';
  if (headroom.level === 'full') return fail('redis', 'redis.memory', headroom.message, fix);
  if (headroom.level === 'warn') return warn('redis', 'redis.memory', headroom.message, fix);
  return ok('redis', 'redis.memory', headroom.message);
}

/**
 * The store identity (issue 13, src/ops/store-identity.ts): a loss a process reported fails,
 * with what to re-run. No epoch yet: the first worker writes it at start.
 */
export function judgeStoreIdentity(verdict: StoreVerdict): CheckResult {
  if (!verdict.ok) return fail('redis', 'redis.identity', verdict.problem, verdict.fix);
  const { epoch } = verdict;
  if (epoch) {
    return ok(
      'redis',
      'redis.identity',
      `store identity: epoch ${epoch.id} since ${new Date(epoch.createdAt).toISOString()}`,
    );
  }
  return ok(
    'redis',
    'redis.identity',
    'store identity: no epoch yet (the first worker writes it at start)',
  );
}

/** The store's layout against this version's (`fleetscan migrate`, CHANGELOG.md). */
export function judgeStoreSchema(schema: StoreSchema): CheckResult {
  const ours = `this fleetscan uses layout ${String(STORE_SCHEMA)}`;
  switch (schema.state) {
    case 'empty':
      return ok('redis', 'redis.schema', `store layout: none yet (empty store; ${ours})`);
    case 'current':
      return ok('redis', 'redis.schema', `store layout ${String(schema.version)} (${ours})`);
    case 'older':
      return fail(
        'redis',
        'redis.schema',
        `store layout ${String(schema.version)}, written by an older fleetscan (${ours}): workers and writes refuse to start`,
        'Run `fleetscan migrate` once (safe while workers run); `fleetscan migrate --dry-run` shows what changes.',
      );
    case 'newer':
      return fail(
        'redis',
        'redis.schema',
        `store layout ${schema.version === null ? '(unreadable marker)' : String(schema.version)}, written by a newer fleetscan (${ours})`,
        'Run the newer fleetscan here; this version refuses to read or write that store.',
      );
  }
}
