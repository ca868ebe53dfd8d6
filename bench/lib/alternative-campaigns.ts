import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { BenchContext } from './context.js';
import { paths } from './context.js';
import {
  campaignRunFrom,
  simulatorOptionsFor,
  type CampaignRun,
  type CampaignSpec,
} from './fleetscan-campaign.js';
import { waitForQueueWorkers } from './fleetscan-runner.js';
import { theoreticalFloorMs } from './floor.js';
import { startChild, type Child } from './processes.js';
import { MDE_WINDOWS, compressed, machineIds, startSimulator } from './sim-harness.js';

const ALT_QUEUE = 'alt-scans';

/**
 * BullMQ's built-in limiter (`max` job starts per fixed window of a minute / factor) in two
 * worker processes at concurrency 8, the same shape as fleetscan's two workers.
 */
export async function runBullmqCampaign(
  ctx: BenchContext,
  spec: CampaignSpec,
  max: number,
): Promise<CampaignRun> {
  const ids = machineIds(spec.devices);
  const api = await startSimulator(simulatorOptionsFor(spec, ids));
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const prefix = `alt${max}n${spec.devices}`;
  const settings = {
    redisUrl: ctx.redisUrl,
    prefix,
    queue: ALT_QUEUE,
    mode: 'scan',
    concurrency: 8,
    limiter: { max, duration: 60_000 / spec.factor },
    apiUrl: api.url,
    token: api.token,
    defaultRetryAfterMs: 60_000 / spec.factor,
  };
  const workers: Child[] = [1, 2].map((i) =>
    startChild(
      process.execPath,
      [paths.bullmqWorker, JSON.stringify(settings)],
      process.env,
      `bullmq worker ${i}`,
    ),
  );
  const connection = ctx.admin.duplicate();
  const queue = new Queue(ALT_QUEUE, { connection, prefix });
  try {
    await waitForQueueWorkers(ctx.admin, prefix, ALT_QUEUE, 2, workers);
    const startedAt = api.sim.now();
    const floorMs = theoreticalFloorMs(spec.devices, windows);
    // Jobs are kept when done so that completion can be counted; that costs BullMQ a little.
    const jobOpts = { attempts: 6, backoff: { type: 'exponential', delay: 5_000 / spec.factor } };
    for (let i = 0; i < ids.length; i += 1_000) {
      await queue.addBulk(
        ids.slice(i, i + 1_000).map((machineId) => ({
          name: 'scan',
          data: { machineId },
          opts: { ...jobOpts, jobId: machineId },
        })),
      );
    }
    const deadline = performance.now() + 60_000 + floorMs * 8;
    let counts: Record<string, number> = {};
    for (;;) {
      counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
      if ((counts['completed'] ?? 0) + (counts['failed'] ?? 0) >= spec.devices) break;
      if (performance.now() > deadline)
        throw new Error(`bullmq max ${max}: not done in time ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return campaignRunFrom(
      `BullMQ limiter ${max}/min`,
      spec,
      { calls: api.sim.calls() },
      { startedAt, doneAt: api.sim.now() },
      counts,
      workers.map((w) => w.cost()),
    );
  } finally {
    await queue.close();
    connection.disconnect();
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await api.stop();
  }
}

/** A p-limit loop (concurrency 16 = two workers × 8) retrying 429s after Retry-After. */
export async function runPLimitCampaign(
  ctx: BenchContext,
  spec: CampaignSpec,
): Promise<CampaignRun> {
  const ids = machineIds(spec.devices);
  const api = await startSimulator(simulatorOptionsFor(spec, ids));
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const idsFile = join(ctx.workDir, `p-limit-${spec.devices}.txt`);
  writeFileSync(idsFile, `${ids.join('\n')}\n`);
  const settings = {
    apiUrl: api.url,
    token: api.token,
    defaultRetryAfterMs: 60_000 / spec.factor,
    concurrency: 16,
    idsFile,
    attempts: 6,
    backoffMs: 5_000 / spec.factor,
  };
  const floorMs = theoreticalFloorMs(spec.devices, windows);
  const startedAt = api.sim.now();
  const loop = startChild(
    process.execPath,
    [paths.pLimitLoop, JSON.stringify(settings)],
    process.env,
    'p-limit loop',
  );
  let lastCost = loop.cost();
  const sampler = setInterval(() => {
    lastCost = loop.cost() ?? lastCost;
  }, 200);
  const timer = setTimeout(() => loop.process.kill('SIGKILL'), 60_000 + floorMs * 8);
  try {
    const code = await loop.exited;
    if (code !== 0)
      throw new Error(`p-limit loop exited with ${code}: ${loop.stderr.slice(-5).join(' | ')}`);
    const summary = JSON.parse(loop.lines.at(-1) ?? '{}') as Record<string, number>;
    return campaignRunFrom(
      'p-limit loop, Retry-After',
      spec,
      { calls: api.sim.calls() },
      { startedAt, doneAt: api.sim.now() },
      summary,
      [lastCost],
    );
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
    await loop.stop('SIGKILL');
    await api.stop();
  }
}
