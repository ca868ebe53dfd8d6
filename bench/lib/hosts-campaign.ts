import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { SimulatorOptions } from '../../src/simulator/build-simulator.js';
import { paths, type BenchContext } from './context.js';
import {
  campaignEnv,
  campaignRunFrom,
  simulatorOptionsFor,
  type CampaignRun,
  type CampaignSpec,
} from './fleetscan-campaign.js';
import { runScanCommand, waitForCampaignDone, waitForWorkers } from './fleetscan-runner.js';
import { theoreticalFloorMs } from './floor.js';
import { startChild, type Child } from './processes.js';
import {
  MDE_WINDOWS,
  compressed,
  machineIds,
  startSimulator,
  writeIdsFile,
  type RunningSimulator,
} from './sim-harness.js';
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

/**
 * One campaign through the real pipeline with its workers spread over `hosts` (`perHost` each,
 * clocks as the hosts have them): a fresh simulator on the API network, the shared `redis` on
 * the Redis network, `fleetscan scan` from the root namespace as the clock starts.
 */
export async function runHostsCampaign(
  ctx: BenchContext,
  network: VirtualNetwork,
  redis: { url: string; admin: Redis },
  run: { spec: CampaignSpec; hosts: readonly VirtualHost[]; perHost: number; label: string },
): Promise<CampaignRun> {
  const { spec } = run;
  const ids = machineIds(spec.devices);
  const file = join(ctx.workDir, `hosts-${spec.devices}.txt`);
  await writeIdsFile(file, ids.length, (i) => ids[i]!);
  const api = await startHostsApi(network, simulatorOptionsFor(spec, ids));
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const prefix = `fsh${run.hosts.length}x${spec.devices}f${spec.factor}`;
  const env = campaignEnv(spec, { ...api, redisUrl: redis.url, prefix, workDir: ctx.workDir });
  let workers: HostWorkers = [];
  try {
    workers = await startHostWorkers(network, env, {
      perHost: run.perHost,
      concurrency: spec.concurrency ?? 8,
      redis: redis.admin,
      prefix,
      hosts: run.hosts,
    });
    const startedAt = api.sim.now();
    const timeoutMs = 180_000 + theoreticalFloorMs(spec.devices, windows) * 4;
    const scan = await runScanCommand(env, file, `hosts ${spec.devices}`, timeoutMs);
    const done = await waitForCampaignDone(redis.admin, prefix, scan.campaignId, {
      timeoutMs,
      now: () => api.sim.now(),
    });
    return campaignRunFrom(
      run.label,
      spec,
      { calls: api.sim.calls() },
      { startedAt, doneAt: done.doneAt },
      done.counts,
      workers.flat().map((w) => w.cost()),
    );
  } finally {
    await stopHostWorkers(workers);
    await api.stop();
  }
}
