/**
 * Several "hosts" on one machine: a network namespace per host, each with two links to the
 * root namespace (one network to Redis, one to the API), and a wall clock of its own (libfaketime).
 * Two networks, so that cutting a host off from Redis (its Redis link down) leaves its calls to
 * the API alone, as in a deployment where Redis is internal and the API is on the internet.
 * Needs root, `ip` (iproute2) and libfaketime (Debian `faketime`).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What is missing to build the network, in one sentence with the fix. */
export class VirtualHostsUnavailableError extends Error {
  override name = 'VirtualHostsUnavailableError';
}

export interface VirtualHost {
  index: number;
  namespace: string;
  /** The host's address on the Redis network and on the API network. */
  redisAddress: string;
  apiAddress: string;
  /** Root-side end of its Redis link: down = cut off from Redis. */
  redisLink: string;
  /** Root-side end of its API link: down = cut off from the API. */
  apiLink: string;
  /** How far its wall clock is from the real one, seconds. */
  clockOffsetSec: number;
}

export interface VirtualNetwork {
  /** The root namespace's address on the Redis network: Redis listens here. */
  redisGateway: string;
  /** The root namespace's address on the API network: the simulator listens here. */
  apiGateway: string;
  hosts: readonly VirtualHost[];
  /** How to run `command args` inside `host`, with its clock offset (LD_PRELOAD libfaketime). */
  commandIn(host: VirtualHost, command: string, args: readonly string[]): HostCommand;
  /** Takes the host's link to Redis or to the API down (`up: false`), or brings it back. */
  setLink(host: VirtualHost, link: 'redis' | 'api', up: boolean): void;
  /** Removes every namespace, link and bridge; safe to call twice, never throws. */
  destroy(): void;
}

export interface HostCommand {
  command: string;
  args: string[];
  /** To add to the child's environment. */
  env: Record<string, string>;
}

const LIBFAKETIME_DIRS = ['/usr/lib/faketime', '/usr/lib64/faketime'];

/** libfaketime's shared object, from the Debian package's multiarch folder or a plain one. */
function findLibfaketime(): string | null {
  const dirs = [...LIBFAKETIME_DIRS];
  try {
    for (const entry of readdirSync('/usr/lib')) dirs.push(join('/usr/lib', entry, 'faketime'));
  } catch {
    // No /usr/lib: not Debian-like; nothing found.
  }
  for (const dir of dirs) {
    const lib = join(dir, 'libfaketime.so.1');
    if (existsSync(lib)) return lib;
  }
  return null;
}

function run(args: readonly string[], input?: string): { ok: boolean; out: string } {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', input });
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}` };
}

/**
 * Checks root, `ip` and libfaketime; returns libfaketime's path. Throws one sentence naming what
 * is missing and how to get it (tests fail with it, never skip).
 */
export function checkVirtualHostTools(): string {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces need CAP_NET_ADMIN)');
  if (!run(['ip', '-V']).ok) missing.push('`ip` (apt-get install iproute2)');
  const lib = findLibfaketime();
  if (lib === null) missing.push('libfaketime (apt-get install faketime)');
  if (missing.length > 0 || lib === null) {
    throw new VirtualHostsUnavailableError(
      `Several-hosts tests need ${missing.join(', ')}; npm test's pretest installs the packages when run as root.`,
    );
  }
  return lib;
}

function must(args: readonly string[]): void {
  const result = run(args);
  if (!result.ok) throw new Error(`${args.join(' ')} failed: ${result.out.trim()}`);
}

/** Two /24 networks (10.a.b.0 and 10.a.b+1.0) that no route of this machine uses yet. */
function freeSubnets(): [string, string] {
  const routes = run(['ip', '-4', 'route', 'show', 'table', 'all']).out;
  for (let attempt = 0; attempt < 50; attempt++) {
    const [a = 0, b = 0] = randomBytes(2);
    // 10.100-227.x: away from the 10.0-10.99 ranges Docker, VPNs and clouds tend to use.
    const first = `10.${100 + (a % 128)}.${b & 0xfe}`;
    const second = `10.${100 + (a % 128)}.${(b & 0xfe) + 1}`;
    if (!routes.includes(`${first}.`) && !routes.includes(`${second}.`)) return [first, second];
  }
  throw new Error('no free 10.x /24 networks for the virtual hosts');
}

/**
 * Builds the network: a bridge per network in the root namespace (address .1), and per host a
 * namespace (loopback up) with a veth into each bridge (addresses .10, .11, ...). Names carry a
 * random id so parallel runs never collide. Undoes what it built when a step fails.
 */
export function createVirtualNetwork(clockOffsetsSec: readonly number[]): VirtualNetwork {
  const libfaketime = checkVirtualHostTools();
  const id = randomBytes(3).toString('hex');
  const [redisNet, apiNet] = freeSubnets();
  const bridges = { redis: `fsr${id}`, api: `fsa${id}` };
  const hosts: VirtualHost[] = clockOffsetsSec.map((clockOffsetSec, index) => ({
    index,
    namespace: `fleetscan-${id}-h${index}`,
    redisAddress: `${redisNet}.${10 + index}`,
    apiAddress: `${apiNet}.${10 + index}`,
    redisLink: `fsr${id}h${index}`,
    apiLink: `fsa${id}h${index}`,
    clockOffsetSec,
  }));
  const destroy = () => {
    for (const host of hosts) {
      run(['ip', 'netns', 'del', host.namespace]);
      // A namespace kept alive by a stray process keeps its links: delete the root ends too.
      run(['ip', 'link', 'del', host.redisLink]);
      run(['ip', 'link', 'del', host.apiLink]);
    }
    for (const bridge of Object.values(bridges)) run(['ip', 'link', 'del', bridge]);
  };
  try {
    for (const [bridge, net] of [
      [bridges.redis, redisNet],
      [bridges.api, apiNet],
    ] as const) {
      must(['ip', 'link', 'add', bridge, 'type', 'bridge']);
      must(['ip', 'addr', 'add', `${net}.1/24`, 'dev', bridge]);
      must(['ip', 'link', 'set', bridge, 'up']);
    }
    for (const host of hosts) {
      const ns = host.namespace;
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      for (const [bridge, link, inner, address] of [
        [bridges.redis, host.redisLink, 'redis0', host.redisAddress],
        [bridges.api, host.apiLink, 'api0', host.apiAddress],
      ] as const) {
        must(['ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', inner, 'netns', ns]);
        must(['ip', 'link', 'set', link, 'master', bridge]);
        must(['ip', 'link', 'set', link, 'up']);
        must(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', inner]);
        must(['ip', '-n', ns, 'link', 'set', inner, 'up']);
      }
    }
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    redisGateway: `${redisNet}.1`,
    apiGateway: `${apiNet}.1`,
    hosts,
    commandIn: (host, command, args) => ({
      command: 'ip',
      args: ['netns', 'exec', host.namespace, command, ...args],
      env: {
        LD_PRELOAD: libfaketime,
        FAKETIME: `${host.clockOffsetSec >= 0 ? '+' : ''}${String(host.clockOffsetSec)}s`,
        // Only the wall clock moves: timers and performance.now() keep real, steady time.
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    }),
    setLink: (host, link, up) => {
      must([
        'ip',
        'link',
        'set',
        link === 'redis' ? host.redisLink : host.apiLink,
        up ? 'up' : 'down',
      ]);
    },
    destroy,
  };
}

/**
 * The host's wall clock minus this process's, in ms, read by running `node` inside it: proof that
 * the offset is in effect (libfaketime can be silently ignored, e.g. by a static binary). Exact
 * to within `uncertaintyMs` (half the time `node` took, start-up included).
 */
export function measureClockOffset(
  network: VirtualNetwork,
  host: VirtualHost,
): { offsetMs: number; uncertaintyMs: number } {
  const cmd = network.commandIn(host, process.execPath, ['-p', 'Date.now()']);
  const before = Date.now();
  const result = spawnSync(cmd.command, cmd.args, {
    encoding: 'utf8',
    env: { ...process.env, ...cmd.env },
  });
  const after = Date.now();
  if (result.status !== 0) throw new Error(`node in ${host.namespace} failed: ${result.stderr}`);
  return {
    offsetMs: Number(result.stdout.trim()) - (before + after) / 2,
    uncertaintyMs: (after - before) / 2,
  };
}
