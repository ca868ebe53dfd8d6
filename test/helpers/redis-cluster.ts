import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

/** One redis-server of the test cluster. */
export interface ClusterNodeProcess {
  port: number;
  child: ChildProcess;
}

export interface LocalCluster {
  /** `127.0.0.1:port` of every node (masters and replicas), for `redis.cluster`. */
  nodes: string[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...` */
  url: string;
  /** A plain connection to one node (CLUSTER commands, INFO). */
  node(port: number): Redis;
  /** The port of the master that serves `key`'s slot right now. */
  masterOf(key: string): Promise<number>;
  /** The ports of the replicas of the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** Coordinated failover: a replica of `masterPort` takes over with no write lost. */
  failover(masterPort: number): Promise<number>;
  /** SIGKILLs the master on `masterPort` and waits until a replica serves its slots. */
  killMaster(masterPort: number): Promise<number>;
  stop(): Promise<void>;
}

const NODE_TIMEOUT_MS = 1_000;

/** Fails with a clear message when the Redis binaries are missing: tests never skip. */
function requireBinaries(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        `${binary} is not on PATH: the Redis Cluster tests need it (apt-get install redis-server)`,
      );
    }
  }
}

/** True when nothing listens on `port` (127.0.0.1). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let tries = 0; tries < 200; tries += 1) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Masters and their replicas from CLUSTER NODES, as the node on `port` sees them. */
async function topology(client: Redis) {
  const text = (await client.call('CLUSTER', 'NODES')) as string;
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '', , , , link = '', ...slots] =
        line.split(' ');
      return {
        id,
        port: Number(address.split('@')[0]?.split(':')[1]),
        master: flags.includes('master'),
        failed: flags.includes('fail'),
        masterId: master,
        connected: link === 'connected',
        slots,
      };
    });
}

/**
 * Starts a Redis Cluster of three masters and three replicas on free ports in a temp dir
 * (`--cluster-enabled yes`, append-only file, no RDB snapshots, node timeout 1 s) and waits until
 * every node says `cluster_state:ok` and every replica is in sync with its master.
 */
export async function startLocalCluster(): Promise<LocalCluster> {
  requireBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-cluster-'));
  const taken = new Set<number>();
  const processes: ClusterNodeProcess[] = [];
  const clients = new Map<number, Redis>();
  const node = (port: number) => {
    let client = clients.get(port);
    if (!client) {
      client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: false });
      client.on('error', () => undefined);
      clients.set(port, client);
    }
    return client;
  };
  const alive = () =>
    processes
      .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
      .map((p) => p.port);
  const stop = async () => {
    for (const client of clients.values()) client.disconnect();
    await Promise.all(
      processes.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i += 1) {
      const port = await clusterPort(taken);
      // One directory per node: its nodes.conf and append-only files never meet another's.
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const child = spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--dir', nodeDir,
          '--cluster-enabled', 'yes',
          '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
          '--appendonly', 'yes',
          '--save', '',
          '--maxmemory-policy', 'noeviction',
        ],
        { stdio: 'ignore' },
      ); // prettier-ignore
      processes.push({ port, child });
    }
    for (const { port, child } of processes) {
      await until(`node ${String(port)} answered`, async () => {
        if (child.exitCode !== null) throw new Error(`redis-server on ${String(port)} exited`);
        await node(port).ping();
        return true;
      });
    }
    const nodes = processes.map(({ port }) => `127.0.0.1:${String(port)}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 60_000,
    }); // prettier-ignore
    await waitHealthy(processes.map((p) => p.port));
    return {
      nodes,
      url: `redis+cluster://${nodes.join(',')}`,
      node,
      async masterOf(key) {
        const anyNode = node(alive()[0] ?? 0);
        const slot = Number(await anyNode.call('CLUSTER', 'KEYSLOT', key));
        const shards = await topology(anyNode);
        const owner = shards.find((n) => n.master && !n.failed && ownsSlot(n.slots, slot));
        if (!owner) throw new Error(`no master serves slot ${String(slot)}`);
        return owner.port;
      },
      replicasOf,
      async failover(masterPort) {
        const [replica] = await replicasOf(masterPort);
        if (replica === undefined) throw new Error(`master ${String(masterPort)} has no replica`);
        await node(replica).call('CLUSTER', 'FAILOVER');
        await until('the replica took over', async () => {
          const info = (await node(replica).call('ROLE')) as [string];
          return info[0] === 'master';
        });
        await everyNodeSees(replica);
        await waitHealthy(alive());
        return replica;
      },
      async killMaster(masterPort) {
        const replicas = await replicasOf(masterPort);
        const victim = processes.find((p) => p.port === masterPort);
        if (!victim) throw new Error(`no node on ${String(masterPort)}`);
        const exited = new Promise((resolve) => victim.child.once('exit', resolve));
        victim.child.kill('SIGKILL');
        await exited;
        clients.get(masterPort)?.disconnect();
        clients.delete(masterPort);
        let promoted = 0;
        await until('a replica of the killed master took over', async () => {
          for (const port of replicas) {
            const role = (await node(port).call('ROLE')) as [string];
            if (role[0] === 'master') promoted = port;
          }
          return promoted !== 0;
        });
        await everyNodeSees(promoted);
        await until('cluster_state:ok after the kill', () => allOk(alive().map(node)));
        return promoted;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }

  // The promoted node knows at once; the others learn it by gossip, and a test that asks any
  // node which master serves a slot must not read a view from before the failover.
  async function everyNodeSees(newMaster: number) {
    await until(`every node saw ${String(newMaster)} become a master with slots`, async () => {
      for (const port of alive()) {
        const view = await topology(node(port));
        const entry = view.find((n) => n.port === newMaster);
        if (!entry?.master || entry.failed || entry.slots.length === 0) return false;
      }
      return true;
    });
  }

  async function replicasOf(port: number): Promise<number[]> {
    const all = await topology(node(port));
    const master = all.find((n) => n.port === port);
    return all.filter((n) => n.masterId === master?.id && !n.failed).map((n) => n.port);
  }

  async function waitHealthy(ports: number[]) {
    await until('every node reported cluster_state:ok', () => allOk(ports.map(node)));
    await until('every replica was in sync', async () => {
      for (const port of ports) {
        const info = await node(port).info('replication');
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
      }
      return true;
    });
  }
}

async function allOk(clients: Redis[]): Promise<boolean> {
  for (const client of clients) {
    const info = (await client.call('CLUSTER', 'INFO')) as string;
    if (!info.includes('cluster_state:ok')) return false;
  }
  return true;
}

function ownsSlot(ranges: string[], slot: number): boolean {
  return ranges.some((range) => {
    if (range.startsWith('[')) return false;
    const [from = '', to = from] = range.split('-');
    return slot >= Number(from) && slot <= Number(to);
  });
}
