import type { Redis } from 'ioredis';
import { paths } from './context.js';
import { waitForWorkers } from './fleetscan-runner.js';
import { startChild, type Child } from './processes.js';
import { startSimulator, type RunningSimulator } from './sim-harness.js';
import type { SimulatorOptions } from '../../src/simulator/build-simulator.js';
import type { VirtualHost, VirtualNetwork } from './virtual-hosts.js';

/** The simulator on the virtual API network, counting scan calls by the host they came from. */
export interface HostsApi extends RunningSimulator {
  /** Scan calls (`runAntiVirusScan` POSTs) that arrived from `host` so far. */
  scansFrom(host: VirtualHost): number;
}

const SCAN_PATH = /\/machines\/[^/]+\/runAntiVirusScan$/;

/** Starts the simulator on the network's API address; every host reaches it there. */
export async function startHostsApi(
  network: VirtualNetwork,
  options: SimulatorOptions,
): Promise<HostsApi> {
  const byAddress = new Map<string, number>();
  const api = await startSimulator(options, network.apiGateway, (sim) => {
    // The call log has no source address: count it here, before any route answers.
    sim.app.addHook('onRequest', (request, _reply, done) => {
      if (request.method === 'POST' && SCAN_PATH.test(request.url.split('?')[0] ?? '')) {
        const from = request.socket.remoteAddress ?? '';
        byAddress.set(from, (byAddress.get(from) ?? 0) + 1);
      }
      done();
    });
  });
  return {
    ...api,
    scansFrom: (host) =>
      // Accepted sockets may report IPv4 as IPv4-mapped IPv6.
      (byAddress.get(host.apiAddress) ?? 0) + (byAddress.get(`::ffff:${host.apiAddress}`) ?? 0),
  };
}

/** The `fleetscan worker` processes of each host, in host order. */
export type HostWorkers = Child[][];

/**
 * Starts `perHost` `fleetscan worker` processes inside each host (its namespace and clock) and
 * waits until all of them listen for wake-ups on `redis`.
 */
export async function startHostWorkers(
  network: VirtualNetwork,
  env: NodeJS.ProcessEnv,
  options: {
    perHost: number;
    concurrency: number;
    /** `--lock-duration`: how soon a cut-off host's devices go back to the others. */
    lockDuration?: string;
    redis: Redis;
    prefix: string;
    hosts?: readonly VirtualHost[];
    /** The built CLI (default: the one beside this file in dist/; tests pass theirs). */
    cli?: string;
  },
): Promise<HostWorkers> {
  const hosts = options.hosts ?? network.hosts;
  const args = [
    options.cli ?? paths.cli,
    'worker',
    '--concurrency',
    String(options.concurrency),
    ...(options.lockDuration ? ['--lock-duration', options.lockDuration] : []),
  ];
  const workers = hosts.map((host) =>
    Array.from({ length: options.perHost }, (_, i) => {
      const cmd = network.commandIn(host, process.execPath, args);
      return startChild(
        cmd.command,
        cmd.args,
        { ...env, ...cmd.env },
        `fleetscan worker ${i + 1} on ${host.namespace}`,
      );
    }),
  );
  const all = workers.flat();
  try {
    await waitForWorkers(options.redis, options.prefix, all.length, all);
  } catch (error) {
    await Promise.all(all.map((w) => w.stop('SIGKILL')));
    throw error;
  }
  return workers;
}

/** SIGTERM to every worker (SIGKILL after the grace), all at once. */
export async function stopHostWorkers(workers: HostWorkers): Promise<void> {
  await Promise.all(workers.flat().map((w) => w.stop('SIGTERM', 5_000)));
}
