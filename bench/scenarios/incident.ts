import { Queue } from 'bullmq';
import { resetRedis, type BenchContext } from '../lib/context.js';
import { GUARD_MS } from '../lib/fleetscan-campaign.js';
import {
  fleetscanEnv,
  runScanCommand,
  startFleetscanWorkers,
  campaignCounts,
} from '../lib/fleetscan-runner.js';
import { theoreticalFloorMs } from '../lib/floor.js';
import { deviceFile } from '../lib/machinery.js';
import { formatApiTime, formatMs, type ScenarioResult } from '../lib/report.js';
import { SCAN_QUEUE_NAME } from '../../src/scan/scan-job.js';
import {
  MDE_WINDOWS,
  benchMachines,
  compressed,
  latencyFor,
  machineIds,
  startSimulator,
} from '../lib/sim-harness.js';

/** ×100: a minute of API time is 600 ms. */
const FACTOR = 100;
/** Urgent ids live far from the fleet's, so the two campaigns never share a device. */
const URGENT_OFFSET = 50_000_000;
/** The simulator knows this many of the big campaign's devices; the budget never reaches more. */
const KNOWN_FLEET = 20_000;

/**
 * Incident response under load: a fleet-wide campaign is queued and running when an urgent
 * 200-device campaign starts. Measures the urgent campaign's delay to its first call and to
 * completion, within an observation window; past it, reports what FIFO order implies.
 */
export async function incidentScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const fleet = ctx.options.smoke ? 2_000 : 1_000_000;
  const urgentCount = ctx.options.smoke ? 20 : 200;
  const observeMs = ctx.options.smoke ? 3_000 : 15_000;
  const windows = compressed(MDE_WINDOWS, FACTOR);
  const urgentIds = machineIds(urgentCount, URGENT_OFFSET);
  const urgentSet = new Set(urgentIds);
  const api = await startSimulator({
    machines: benchMachines([...machineIds(Math.min(fleet, KNOWN_FLEET)), ...urgentIds]),
    timeScale: FACTOR,
    rateLimits: MDE_WINDOWS,
    latencyMs: latencyFor(FACTOR),
    seed: 13,
  });
  // After the enqueue scenario its million devices are still queued: run those.
  const adopted = ctx.queuedFleet?.devices === fleet ? ctx.queuedFleet : null;
  if (!adopted) await resetRedis(ctx);
  ctx.queuedFleet = null;
  const prefix = adopted?.prefix ?? 'incident';
  const env = fleetscanEnv({
    redisUrl: ctx.redisUrl,
    prefix,
    apiUrl: api.url,
    token: api.token,
    factor: FACTOR,
    windows,
    guardMs: GUARD_MS,
    workDir: ctx.workDir,
  });
  const fleetFile = adopted ? '' : await deviceFile(ctx, fleet);
  const urgentFile = await deviceFile(ctx, urgentCount, URGENT_OFFSET);
  const connection = ctx.admin.duplicate();
  const queue = new Queue(SCAN_QUEUE_NAME, { connection, prefix });
  const workers = await startFleetscanWorkers(env, 2, 8, ctx.admin, prefix);
  try {
    let big: { campaignId: string; elapsedMs: number };
    if (adopted) {
      big = { campaignId: adopted.campaignId, elapsedMs: adopted.enqueueMs };
      // Let the fleet campaign run a few compressed minutes before the incident starts.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } else {
      ctx.progress(`incident: enqueue the ${fleet}-device campaign while two workers run`);
      big = await runScanCommand(env, fleetFile, 'fleet-wide', 60_000 + fleet * 2);
    }
    const ahead = await queue.getWaitingCount();
    const callsBefore = api.sim.calls().filter((c) => c.family === 'scan').length;
    ctx.progress(
      `incident: ${ahead} jobs waiting; start the urgent ${urgentCount}-device campaign`,
    );
    const urgentStart = api.sim.now();
    const urgent = await runScanCommand(env, urgentFile, 'urgent', 60_000);
    // Observe for observeMs once the urgent campaign is queued; delays count from its launch.
    const deadline = api.sim.now() + observeMs;
    const observedMs = deadline - urgentStart;
    let firstCallMs: number | null = null;
    let doneMs: number | null = null;
    while (api.sim.now() < deadline && doneMs === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (firstCallMs === null) {
        const first = api.sim
          .calls()
          .find((c) => c.family === 'scan' && c.machineId !== null && urgentSet.has(c.machineId));
        if (first) firstCallMs = first.t - urgentStart;
      }
      const counts = await campaignCounts(ctx.admin, prefix, urgent.campaignId);
      if (
        (counts['queued'] ?? 0) + (counts['deferred'] ?? 0) === 0 &&
        (counts['requested'] ?? 0) > 0
      ) {
        doneMs = api.sim.now() - urgentStart;
      }
    }
    const bigCounts = await campaignCounts(ctx.admin, prefix, big.campaignId);
    const projectedFirst = theoreticalFloorMs(ahead + 1, MDE_WINDOWS);
    const projectedDone = theoreticalFloorMs(ahead + urgentCount, MDE_WINDOWS);
    const notReached = `not within ${formatApiTime(observedMs * FACTOR)}`;
    const data = {
      fleet,
      urgentCount,
      factor: FACTOR,
      bigEnqueueMs: big.elapsedMs,
      adoptedFromEnqueueScenario: adopted !== null,
      urgentEnqueueMs: urgent.elapsedMs,
      jobsAheadOfUrgent: ahead,
      scanCallsBeforeUrgent: callsBefore,
      firstCallDelayMs: firstCallMs,
      completionMs: doneMs,
      observeMs,
      observedMs,
      projectedFirstCallApiMs: projectedFirst,
      projectedCompletionApiMs: projectedDone,
      bigCampaignCounts: bigCounts,
    };
    return {
      scenario: 'incident',
      elapsedMs: 0,
      tables: [
        {
          title: `Urgent ${urgentCount}-device campaign while a ${fleet.toLocaleString('en-US')}-device campaign runs (time ×${FACTOR})`,
          columns: ['measure', 'value'],
          rows: [
            [
              adopted
                ? 'fleet campaign enqueue (enqueue scenario, before the workers started)'
                : 'fleet campaign enqueue (workers running)',
              formatMs(big.elapsedMs),
            ],
            ['jobs waiting ahead of the urgent campaign', ahead],
            ['urgent campaign enqueue', formatMs(urgent.elapsedMs)],
            [
              "delay to the urgent campaign's first call (API time)",
              firstCallMs === null ? notReached : formatApiTime(firstCallMs * FACTOR),
            ],
            [
              'urgent campaign completion (API time)',
              doneMs === null ? notReached : formatApiTime(doneMs * FACTOR),
            ],
            [
              'first call if served after the jobs ahead (FIFO, at the floor)',
              formatApiTime(projectedFirst),
            ],
            [
              'completion if served after the jobs ahead (FIFO, at the floor)',
              formatApiTime(projectedDone),
            ],
          ],
        },
      ],
      notes: [
        (adopted
          ? 'The fleet campaign is the one the enqueue scenario left queued (`fleetscan scan`, same ids); two workers (× 8) start on it under the compressed budget and run 2 s (3 min of API time) before the urgent campaign'
          : 'The fleet campaign is enqueued with `fleetscan scan` while two workers (× 8) already take its jobs under the compressed budget') +
          `; the urgent campaign is a second \`fleetscan scan\`. Delays count from its launch; observed for ${formatMs(observedMs)} real = ${formatApiTime(observedMs * FACTOR)} of API time.`,
        `The simulator knows the first ${KNOWN_FLEET.toLocaleString('en-US')} fleet devices (the budget reaches no further in the window) and the urgent ones.`,
        'All campaigns share one FIFO queue and one budget (priority classes arrive in a later issue): the projection is the floor for the jobs ahead plus the urgent ones, i.e. what FIFO order costs at best. Keep this scenario to show what priorities change.',
      ],
      data,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await queue.close();
    connection.disconnect();
    await api.stop();
  }
}
