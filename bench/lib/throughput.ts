import { Queue } from 'bullmq';
import { paths, resetRedis, usedMemory, type BenchContext } from './context.js';
import {
  fleetscanEnv,
  startFleetscanWorkers,
  waitForCampaignDone,
  waitForQueueWorkers,
} from './fleetscan-runner.js';
import { deviceFile, enqueueWithFleetscan, enqueueWithRawBullmq } from './machinery.js';
import { startChild, type Child, type ProcessCost } from './processes.js';
import { processCpuMs, redisCpuMs } from './redis-usage.js';
import {
  UNTHROTTLED,
  benchMachines,
  machineIds,
  startSimulator,
  type RunningSimulator,
} from './sim-harness.js';

/** One drain of `devices` waiting jobs with the API limits lifted. */
export interface ThroughputRun {
  contender: string;
  devices: number;
  /** Workers registered on the queue → every job done, real ms. */
  drainMs: number;
  perSecond: number;
  workerCost: (ProcessCost | null)[];
  /** CPU seconds spent meanwhile by Redis and by the bench process (which hosts the simulator). */
  redisCpuMs: number;
  simulatorCpuMs: number;
  /** used_memory per device while waiting and after every job finished. */
  bytesWaiting: number;
  bytesAfter: number;
  calls: number;
}

const WORKERS = 2;
/** The default `worker.concurrency`: what operators run. */
const CONCURRENCY = 8;

async function unthrottledSimulator(ids: readonly string[]): Promise<RunningSimulator> {
  return startSimulator({
    machines: benchMachines(ids),
    timeScale: 1,
    rateLimits: UNTHROTTLED,
    latencyMs: [0, 0],
    seed: 11,
  });
}

/** Measures a drain: CPU of workers, Redis and simulator, memory before and after. */
async function drain(
  ctx: BenchContext,
  contender: string,
  devices: number,
  api: RunningSimulator | null,
  enqueue: () => Promise<void>,
  startWorkers: () => Promise<Child[]>,
  waitDone: () => Promise<void>,
): Promise<ThroughputRun> {
  await resetRedis(ctx);
  const memory0 = await usedMemory(ctx.admin);
  await enqueue();
  const bytesWaiting = ((await usedMemory(ctx.admin)) - memory0) / devices;
  const redis0 = await redisCpuMs(ctx.admin);
  const sim0 = processCpuMs();
  let workers: Child[] = [];
  try {
    workers = await startWorkers();
    const startedAt = performance.now();
    await waitDone();
    const drainMs = performance.now() - startedAt;
    const workerCost = workers.map((w) => w.cost());
    const redisCpu = (await redisCpuMs(ctx.admin)) - redis0;
    const simCpu = processCpuMs() - sim0;
    const calls = api ? api.sim.calls().filter((c) => c.family === 'scan').length : 0;
    // Let deferred clean-up (stream trims, lock expiry) settle before reading memory.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const bytesAfter = ((await usedMemory(ctx.admin)) - memory0) / devices;
    return {
      contender,
      devices,
      drainMs,
      perSecond: devices / (drainMs / 1_000),
      workerCost,
      redisCpuMs: redisCpu,
      simulatorCpuMs: simCpu,
      bytesWaiting,
      bytesAfter,
      calls,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
  }
}

/** fleetscan: scan command, then two `fleetscan worker` processes drain it against an unthrottled API. */
export async function fleetscanThroughput(
  ctx: BenchContext,
  devices: number,
): Promise<ThroughputRun> {
  const ids = machineIds(devices);
  const file = await deviceFile(ctx, devices);
  const api = await unthrottledSimulator(ids);
  const prefix = 'fsthroughput';
  const env = fleetscanEnv({
    redisUrl: ctx.redisUrl,
    prefix,
    apiUrl: api.url,
    token: api.token,
    factor: 1,
    windows: UNTHROTTLED,
    guardMs: 5,
    workDir: ctx.workDir,
  });
  let campaignId = '';
  try {
    return await drain(
      ctx,
      'fleetscan (limiter, store, HTTP)',
      devices,
      api,
      async () => {
        campaignId = (await enqueueWithFleetscan(ctx, file, devices, prefix)).campaignId;
      },
      () => startFleetscanWorkers(env, WORKERS, CONCURRENCY, ctx.admin, prefix),
      async () => {
        await waitForCampaignDone(ctx.admin, prefix, campaignId, {
          timeoutMs: 60_000 + devices * 20,
          now: () => api.sim.now(),
          pollMs: 200,
        });
      },
    );
  } finally {
    await api.stop();
  }
}

/** Raw BullMQ: the same ids by addBulk, drained by two plain workers (no-op, or a got POST). */
export async function rawBullmqThroughput(
  ctx: BenchContext,
  devices: number,
  mode: 'noop' | 'scan',
): Promise<ThroughputRun> {
  const file = await deviceFile(ctx, devices);
  const api = mode === 'scan' ? await unthrottledSimulator(machineIds(devices)) : null;
  const prefix = `raw${mode}`;
  const queueName = 'scans';
  const settings = {
    redisUrl: ctx.redisUrl,
    prefix,
    queue: queueName,
    mode,
    concurrency: CONCURRENCY,
    limiter: null,
    apiUrl: api?.url ?? 'http://127.0.0.1:9',
    token: api?.token ?? 'none',
    defaultRetryAfterMs: 1_000,
  };
  const connection = ctx.admin.duplicate();
  const queue = new Queue(queueName, { connection, prefix });
  try {
    return await drain(
      ctx,
      mode === 'noop' ? 'raw BullMQ, no-op jobs' : 'raw BullMQ + got POST',
      devices,
      api,
      async () => {
        await enqueueWithRawBullmq(ctx, file, devices, prefix, queueName);
      },
      async () => {
        const workers = Array.from({ length: WORKERS }, (_, i) =>
          startChild(
            process.execPath,
            [paths.bullmqWorker, JSON.stringify(settings)],
            process.env,
            `raw worker ${i + 1}`,
          ),
        );
        try {
          await waitForQueueWorkers(ctx.admin, prefix, queueName, WORKERS, workers);
        } catch (error) {
          await Promise.all(workers.map((w) => w.stop('SIGKILL')));
          throw error;
        }
        return workers;
      },
      async () => {
        const deadline = performance.now() + 60_000 + devices * 20;
        for (;;) {
          const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
          if (Object.values(counts).every((n) => n === 0)) return;
          if (performance.now() > deadline)
            throw new Error(`raw ${mode}: not drained ${JSON.stringify(counts)}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
    );
  } finally {
    await queue.close();
    connection.disconnect();
    await api?.stop();
  }
}
