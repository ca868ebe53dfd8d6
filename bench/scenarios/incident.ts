import type { RateWindow } from '../../src/config/duration.js';
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

/**
 * `limits.reserve` (its default, config/default.yaml) in API time: what a saturating `normal`
 * sweep leaves free, so what an urgent campaign is sure to find. Passed to the workers explicitly.
 */
const RESERVE: readonly RateWindow[] = [
  { cap: 10, windowMs: 60_000 },
  { cap: 100, windowMs: 3_600_000 },
];
/** After the urgent campaign: how long (API time) the sweep is watched for its next calls. */
const SWEEP_WATCH_API_MS = 10 * 60_000;

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
  const windows = compressed(MDE_WINDOWS, FACTOR);
  // The guarantee: all urgent calls within 1.05 × the floor of their count under the reserve
  // alone (API time); observe a quarter more than that, so a miss is measured, not cut off.
  const urgentFloorApi = theoreticalFloorMs(urgentCount, RESERVE);
  const observeMs = Math.ceil((urgentFloorApi * 1.25) / FACTOR) + 2_000;
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
    reserve: compressed(RESERVE, FACTOR)
      .map((w) => `${w.cap}/${Math.round(w.windowMs)}ms`)
      .join(','),
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
    const isUrgent = (c: { machineId: string | null }) =>
      c.machineId !== null && urgentSet.has(c.machineId);
    const urgentCalls = api.sim
      .calls()
      .filter((c) => c.family === 'scan' && c.status !== 429 && isUrgent(c))
      .map((c) => c.t);
    let lastUrgentAt: number | null = null;
    for (const t of urgentCalls) if (lastUrgentAt === null || t > lastUrgentAt) lastUrgentAt = t;
    if (lastUrgentAt !== null) lastUrgentCallMs = lastUrgentAt - urgentStart;
    // The sweep goes on: watch for its next call after the urgent campaign's last one (the hour
    // window may hold it a while: the urgent campaign spent slots the sweep would have had).
    const watchUntil = api.sim.now() + SWEEP_WATCH_API_MS / FACTOR;
    const sweepCallsAfter = () =>
      lastUrgentAt === null
        ? []
        : api.sim
            .calls()
            .filter(
              (c) => c.family === 'scan' && c.status !== 429 && !isUrgent(c) && c.t > lastUrgentAt,
            );
    while (api.sim.now() < watchUntil && sweepCallsAfter().length < 100) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sweepAfterCalls = sweepCallsAfter();
    const sweepAfter = sweepAfterCalls.length;
    const sweepResumedApiMs =
      lastUrgentAt === null || sweepAfterCalls[0] === undefined
        ? null
        : (sweepAfterCalls[0].t - lastUrgentAt) * FACTOR;
    const bigCounts = await campaignCounts(ctx.admin, prefix, big.campaignId);
    const throttled = api.sim.stats().throttled;
    const urgentSpanApi =
      lastUrgentCallMs === null || firstCallMs === null
        ? null
        : (lastUrgentCallMs - firstCallMs) * FACTOR;
    // The strict figure: from `scan` returning to the last urgent call (first-call delay included).
    const urgentSinceReturnApi =
      lastUrgentAt === null ? null : (lastUrgentAt - urgentReturned) * FACTOR;
    const projectedFirst = theoreticalFloorMs(ahead + 1, MDE_WINDOWS);
    const projectedDone = theoreticalFloorMs(ahead + urgentCount, MDE_WINDOWS);
    const reserveText = RESERVE.map((w) => `${w.cap}/${formatApiTime(w.windowMs)}`).join(', ');
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
      urgentReturnToLastCallApiMs: urgentSinceReturnApi,
      urgentReturnToLastOverFloor:
        urgentSinceReturnApi === null ? null : urgentSinceReturnApi / urgentFloorApi,
      urgentCallsCounted: urgentCalls.length,
      reserve: RESERVE,
      sweepCallsAfterUrgent: sweepAfter,
      sweepResumedAfterUrgentApiMs: sweepResumedApiMs,
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
            ['urgent calls counted by the API', urgentCalls.length],
            [
              `floor for ${urgentCount} calls under the reserve alone (${reserveText})`,
              formatApiTime(urgentFloorApi),
            ],
            [
              'urgent first → last call (API time)',
              urgentSpanApi === null ? notReached : formatApiTime(urgentSpanApi),
            ],
            [
              'urgent span ÷ floor',
              urgentSpanApi === null ? notReached : (urgentSpanApi / urgentFloorApi).toFixed(3),
            ],
            [
              '`scan` returned → last urgent call (API time)',
              urgentSinceReturnApi === null ? notReached : formatApiTime(urgentSinceReturnApi),
            ],
            [
              '`scan` returned → last urgent call ÷ floor (target ≤ 1.05)',
              urgentSinceReturnApi === null
                ? notReached
                : (urgentSinceReturnApi / urgentFloorApi).toFixed(3),
            ],
            [
              "sweep's next call after the last urgent one (API time)",
              sweepResumedApiMs === null
                ? `none within ${formatApiTime(SWEEP_WATCH_API_MS)}`
                : formatApiTime(sweepResumedApiMs),
            ],
            [
              `sweep calls after the last urgent one (watched up to ${formatApiTime(SWEEP_WATCH_API_MS)} or 100 calls)`,
              sweepAfter,
            ],
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
        `Lanes: the next free slot goes to the highest class with a device ready; the fleet (normal) leaves the reserve (\`limits.reserve\` ${reserveText}, the default) free in every window, so the urgent campaign starts at once and then takes every slot that opens. The reserve is all it is sure to find (the sweep may hold the rest of both windows), so its floor is the earliest time of its ${urgentCount}-th call from an idle start under the reserve's windows alone: ${urgentCount} calls at ${RESERVE.map((w) => `${w.cap} per ${formatApiTime(w.windowMs)}`).join(' and ')}. Target: \`scan\` returned → last urgent call ≤ 1.05 × that floor; slots the sweep's calls free as they age out may make it faster. The FIFO projection shows what the single queue of wave 1 would have cost.`,
      ],
      data,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await api.stop();
  }
}
