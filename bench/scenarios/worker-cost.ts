import { resetRedis, type BenchContext } from '../lib/context.js';
import { formatBytes, formatMs, formatRatio, type ScenarioResult } from '../lib/report.js';
import { fleetscanThroughput, rawBullmqThroughput, type ThroughputRun } from '../lib/throughput.js';

const cpuSeconds = (ms: number | undefined) =>
  ms === undefined ? '–' : `${(ms / 1_000).toFixed(1)} s`;

/**
 * With the API limits lifted: how fast the machinery drains a campaign and what each worker
 * process costs, next to raw BullMQ running no-op jobs and plain got POSTs.
 */
export async function workerCostScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const devices = ctx.options.smoke ? 2_000 : 100_000;
  const runs: ThroughputRun[] = [];
  ctx.progress(`worker-cost: raw BullMQ no-op, ${devices} jobs`);
  runs.push(await rawBullmqThroughput(ctx, devices, 'noop'));
  // Plain got POSTs through BullMQ separate HTTP + simulator cost from fleetscan's own; it
  // takes another ~100 s, so only with --large (or --smoke) in the 10-minute default run.
  if (ctx.options.large || ctx.options.smoke) {
    ctx.progress(`worker-cost: raw BullMQ + got POST, ${devices} jobs`);
    runs.push(await rawBullmqThroughput(ctx, devices, 'scan'));
  }
  ctx.progress(`worker-cost: fleetscan, ${devices} devices`);
  runs.push(await fleetscanThroughput(ctx, devices));
  await resetRedis(ctx);
  const noop = runs[0]!;
  const throughputRows = runs.map((run) => [
    run.contender,
    run.devices,
    formatMs(run.drainMs),
    `${Math.round(run.perSecond).toLocaleString('en-US')}/s`,
    `${formatRatio(run.perSecond / noop.perSecond)}×`,
    cpuSeconds(run.workerCost.reduce((sum, c) => sum + (c ? c.cpuUserMs + c.cpuSystemMs : 0), 0)),
    cpuSeconds(run.redisCpuMs),
    cpuSeconds(run.simulatorCpuMs),
    formatBytes(run.bytesWaiting),
    formatBytes(run.bytesAfter),
  ]);
  const workerRows = runs.flatMap((run) =>
    run.workerCost.map((cost, i) => [
      run.contender,
      `worker ${i + 1}`,
      cost ? cpuSeconds(cost.cpuUserMs + cost.cpuSystemMs) : '–',
      cost
        ? `${((cost.cpuUserMs + cost.cpuSystemMs) / (run.devices / run.workerCost.length)).toFixed(2)} ms`
        : '–',
      formatBytes(cost?.peakRssBytes ?? null),
    ]),
  );
  return {
    scenario: 'worker-cost',
    elapsedMs: 0,
    tables: [
      {
        title: `Machinery with the API limits lifted (unthrottled simulator, zero latency), ${devices.toLocaleString('en-US')} devices, 2 workers × 8`,
        columns: [
          'contender',
          'devices',
          'drain',
          'rate',
          'vs no-op',
          'worker CPU',
          'Redis CPU',
          'simulator CPU',
          'Redis/device waiting',
          'Redis/device after',
        ],
        rows: throughputRows,
      },
      {
        title: 'Cost per worker process over the run',
        columns: ['contender', 'process', 'CPU (user+sys)', 'CPU per job', 'peak RSS'],
        rows: workerRows,
      },
    ],
    notes: [
      'Drain: from both worker processes registered on the queue (jobs already waiting) until no job is left; rate = devices / drain.',
      'CPU and peak RSS (VmHWM) per worker read from /proc/<pid> just before SIGTERM; Redis CPU from INFO cpu; simulator CPU is the bench process (it hosts the simulator and polls Redis every 200 ms).',
      'All of it shares the same 2 cores: worker, Redis and simulator CPU compete, so the slowest part is the one whose CPU is closest to the drain time.',
      '"Redis/device after" is what stays once every job is done (fleetscan keeps its compact campaign record per device; raw BullMQ keeps nothing with removeOnComplete).',
    ],
    data: runs,
  };
}
