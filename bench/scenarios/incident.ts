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

/** `limits.reserve` default: the minute window's reserve is what urgent work finds free. */
const RESERVE_PER_MINUTE = 10;

/**
 * Incident response under load: a fleet-wide `normal` campaign saturates the budget (all but
 * the reserve) when an urgent 200-device campaign starts (`--priority urgent`). Measures the
 * real time from `fleetscan scan` returning to the urgent campaign's first call, its completion
 * against the floor for its calls when the sweep holds all but the reserve, that the sweep goes
 * on afterwards, and 429s.
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
    const ahead = (await campaignCounts(ctx.admin, prefix, big.campaignId))['queued'] ?? 0;
    const callsBefore = api.sim.calls().filter((c) => c.family === 'scan').length;
    ctx.progress(
      `incident: ${ahead} jobs waiting; start the urgent ${urgentCount}-device campaign`,
    );
    const urgentStart = api.sim.now();
    const urgent = await runScanCommand(env, urgentFile, 'urgent', 60_000, [
      '--priority',
      'urgent',
    ]);
    const urgentReturned = api.sim.now();
    // Observe for observeMs once the urgent campaign is queued; delays count from its launch.
    const deadline = api.sim.now() + observeMs;
    const observedMs = deadline - urgentStart;
    let firstCallMs: number | null = null;
    let firstAfterReturnMs: number | null = null;
    let doneMs: number | null = null;
    let lastUrgentCallMs: number | null = null;
    while (api.sim.now() < deadline && doneMs === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (firstCallMs === null) {
        const first = api.sim
          .calls()
          .find((c) => c.family === 'scan' && c.machineId !== null && urgentSet.has(c.machineId));
        if (first) {
          firstCallMs = first.t - urgentStart;
          firstAfterReturnMs = first.t - urgentReturned;
        }
      }
      const counts = await campaignCounts(ctx.admin, prefix, urgent.campaignId);
      if (
        (counts['queued'] ?? 0) + (counts['deferred'] ?? 0) === 0 &&
        (counts['requested'] ?? 0) > 0
      ) {
        doneMs = api.sim.now() - urgentStart;
      }
    }
    const urgentCalls = api.sim
      .calls()
      .filter((c) => c.family === 'scan' && c.machineId !== null && urgentSet.has(c.machineId))
      .map((c) => c.t);
    if (urgentCalls.length > 0) lastUrgentCallMs = Math.max(...urgentCalls) - urgentStart;
    const sweepAtUrgentDone = (await campaignCounts(ctx.admin, prefix, big.campaignId))[
      'requested'
    ];
    // The sweep goes on: give it a compressed minute and a half after the urgent campaign.
    await new Promise((resolve) => setTimeout(resolve, (90_000 / FACTOR) | 0));
    const bigCounts = await campaignCounts(ctx.admin, prefix, big.campaignId);
    const sweepAfter = (bigCounts['requested'] ?? 0) - (sweepAtUrgentDone ?? 0);
    const throttled = api.sim.stats().throttled;
    // Floor for the urgent calls when the sweep holds all but the reserve of the minute window:
    // the earliest time of the (used + n)-th call from an idle start, less nothing (the sweep's
    // calls are the first `used`).
    const usedBySweep = (MDE_WINDOWS[0]?.cap ?? 100) - RESERVE_PER_MINUTE;
    const urgentFloorApi = theoreticalFloorMs(usedBySweep + urgentCount, MDE_WINDOWS);
    const urgentSpanApi =
      lastUrgentCallMs === null || firstCallMs === null
        ? null
        : (lastUrgentCallMs - firstCallMs) * FACTOR;
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
      firstCallAfterScanReturnedRealMs: firstAfterReturnMs,
      urgentFirstToLastCallApiMs: urgentSpanApi,
      urgentFloorApiMs: urgentFloorApi,
      urgentSpanOverFloor: urgentSpanApi === null ? null : urgentSpanApi / urgentFloorApi,
      sweepRequestedAfterUrgent: sweepAfter,
      throttled,
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
            ['fleet devices waiting when the urgent campaign starts', ahead],
            [
              'urgent campaign enqueue (`fleetscan scan --priority urgent`)',
              formatMs(urgent.elapsedMs),
            ],
            [
              'first urgent call after `fleetscan scan` returned (real)',
              firstAfterReturnMs === null ? notReached : formatMs(firstAfterReturnMs),
            ],
            [
              'urgent first → last call (API time)',
              urgentSpanApi === null ? notReached : formatApiTime(urgentSpanApi),
            ],
            [
              `floor for ${urgentCount} calls with the sweep holding all but the reserve`,
              formatApiTime(urgentFloorApi),
            ],
            [
              'urgent span ÷ floor',
              urgentSpanApi === null ? notReached : (urgentSpanApi / urgentFloorApi).toFixed(3),
            ],
            ['fleet devices requested in the 1.5 min (API) after the urgent campaign', sweepAfter],
            ['429s', throttled],
            [
              "delay to the urgent campaign's first call (API time)",
              firstCallMs === null ? notReached : formatApiTime(firstCallMs * FACTOR),
            ],
            [
              'urgent campaign completion (API time)',
              doneMs === null ? notReached : formatApiTime(doneMs * FACTOR),
            ],
            [
              'first call had it waited behind the fleet (FIFO, at the floor)',
              formatApiTime(projectedFirst),
            ],
            [
              'completion had it waited behind the fleet (FIFO, at the floor)',
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
        `Lanes: the next free slot goes to the highest class with a device ready; the fleet (normal) leaves the reserve (${RESERVE_PER_MINUTE}/min, 100/h) free, so the urgent campaign starts at once and then takes every slot that opens. Its floor is the earliest time of the (${usedBySweep} + n)-th call from an idle start (the sweep's ${usedBySweep} calls fill the minute first); "urgent span ÷ floor" ≤ 1.05 is the target. The FIFO projection shows what the single queue of wave 1 would have cost.`,
      ],
      data,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await api.stop();
  }
}
