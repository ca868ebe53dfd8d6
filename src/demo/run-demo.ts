import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportDevices } from '../campaigns/export-devices.js';
import { DEFAULT_RATE_LIMITS } from '../simulator/options.js';
import { createLogger } from '../shared/logger.js';
import { describeRedisUrl } from '../shared/redis.js';
import { buildRuntime, type Runtime } from '../runtime/build-runtime.js';
import type { CliChild } from './cli-child.js';
import {
  startDemoEnvironment,
  type DemoEnvironment,
  type DemoSettings,
} from './demo-environment.js';
import { createCampaign, startWorkers, stopWorkers, tail, workerLog } from './demo-processes.js';
import { readSlotExits } from '../limiter/slot-exits.js';
import { formatProgress, readProgress } from './demo-progress.js';
import { formatSummary, summarize, type DemoSummary } from './demo-summary.js';
import {
  formatDashboardFacts,
  formatKeepRunning,
  type DemoDashboardFacts,
} from './dashboard-facts.js';
import { startDemoDashboard, type DemoDashboard } from './demo-dashboard.js';
import { DEMO_USER_LIST } from './demo-users.js';

export interface DemoOptions extends DemoSettings {
  workers: number;
  concurrency: number;
  json: boolean;
  /** Where the CSV export goes; default: the temp folder. */
  out?: string | undefined;
  /** Give up when the campaign has not finished by then (ms). */
  timeoutMs: number;
}

/**
 * The whole product on embedded defaults: Redis, the simulator, `fleetscan scan` and
 * `fleetscan worker` × N as child processes (the very commands an operator runs), live progress,
 * then the summary and the CSV export. Leaves nothing behind but the export.
 */
export async function runDemo(
  options: DemoOptions,
  out: NodeJS.WriteStream = process.stdout,
): Promise<DemoSummary> {
  const say = (text: string) => {
    if (!options.json) out.write(`${text}\n`);
  };
  const env = await startDemoEnvironment(options);
  const workers: CliChild[] = [];
  let runtime: Runtime | undefined;
  let dashboard: DemoDashboard | undefined;
  const stop = new AbortController();
  const onSignal = () => {
    stop.abort();
  };
  // Ctrl-C or a SIGTERM: stop following, stop the workers, clean up the demo's keys.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say(`Redis ${describeRedisUrl(env.redis.url)} (${env.redis.source}), key prefix ${env.prefix}`);
    say(
      `Simulator ${env.apiUrl}: ${options.devices.toLocaleString('en-US')} devices, time ×${options.timeScale}, ` +
        `${options.faultRate * 100} % 5xx, ${options.lostRate * 100} % lost replies; limits ${env.env['FLEETSCAN_RATE_LIMITS'] ?? ''}`,
    );
    let facts: DemoDashboardFacts | undefined;
    if (options.dashboardPort !== undefined) {
      dashboard = await startDemoDashboard(env, options.dashboardPort);
      facts = {
        url: dashboard.url,
        signInPage: env.apiUrl,
        caFile: env.caFile,
        users: DEMO_USER_LIST,
        stop: 'Ctrl-C to stop (or SIGTERM)',
      };
      say(formatDashboardFacts(facts));
    }
    runtime = await buildRuntime(env.config, {
      role: 'demo',
      log: createLogger({ level: 'warn', name: 'fleetscan-demo' }),
    });
    workers.push(...startWorkers(env, options.workers, options.concurrency));
    const startedAt = Date.now();
    const campaignId = await createCampaign(env);
    say(
      `Campaign ${campaignId} created through \`fleetscan scan\`; ${options.workers} workers × ${options.concurrency} running`,
    );

    await follow(runtime, env, campaignId, startedAt, options, out, stop.signal, workers);
    const elapsedMs = Date.now() - startedAt;
    // With the dashboard the workers stay: a campaign started from the page then runs.
    if (!dashboard) await stopWorkers(workers);

    const exportPath = options.out ?? join(tmpdir(), `fleetscan-demo-${campaignId}.csv`);
    await writeExport(runtime, campaignId, exportPath);
    const campaign = await runtime.store.getCampaign(campaignId);
    if (!campaign) throw new Error(`Campaign ${campaignId} vanished`);
    const actionIds = new Set<string>();
    for await (const device of runtime.store.iterateDevices(campaignId))
      if (device.machineActionId) actionIds.add(device.machineActionId);
    const summary: DemoSummary = summarize({
      campaign,
      actionIds,
      stats: env.sim.stats(),
      calls: env.sim.calls(),
      elapsedMs,
      exportPath,
      timeScale: options.timeScale,
      windows: DEFAULT_RATE_LIMITS.map((w) => ({
        cap: w.cap,
        windowMs: w.windowMs / options.timeScale,
      })),
    });
    if (facts) summary.dashboard = facts;
    out.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    if (dashboard && facts) {
      say(formatKeepRunning(facts).trimEnd());
      await untilStopped(stop.signal, dashboard);
    }
    return summary;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopWorkers(workers);
    await dashboard?.stop();
    await runtime?.close();
    await env.close();
    if (dashboard) say(`Stopped; the keys of ${env.prefix} and the temp folder are gone`);
  }
}

/**
 * Waits for SIGINT/SIGTERM. A dashboard that exits on its own first is a failure, unless it
 * exited cleanly: Ctrl-C in a terminal reaches the whole process group, the dashboard included.
 */
async function untilStopped(signal: AbortSignal, dashboard: DemoDashboard): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else
      signal.addEventListener(
        'abort',
        () => {
          resolve();
        },
        { once: true },
      );
  });
  const exited = dashboard.child.exited.then(({ code, signal: killedBy }) => {
    if (code === 0 || killedBy === 'SIGINT' || signal.aborted) return;
    throw new Error(
      `The dashboard exited (code ${String(code)}, signal ${String(killedBy)}):\n${tail(dashboard.logFile)}`,
    );
  });
  await Promise.race([stopped, exited]);
}

/** Prints progress once a second until the campaign finishes (or fails to, saying why). */
async function follow(
  runtime: Runtime,
  env: DemoEnvironment,
  campaignId: string,
  startedAt: number,
  options: DemoOptions,
  out: NodeJS.WriteStream,
  signal: AbortSignal,
  workers: readonly CliChild[],
): Promise<void> {
  const tty = out.isTTY && !options.json;
  let alive = workers.length;
  for (const worker of workers)
    void worker.exited.then(() => {
      alive--;
    });
  for (;;) {
    const campaign = await runtime.store.getCampaign(campaignId);
    const usage = (await runtime.limiter.usage('scan'))[0];
    const progress = readProgress({
      campaign,
      startedAt,
      now: Date.now(),
      // The limiter's order (shortest first), which the slot times follow.
      windows: usage?.windows ?? runtime.config.limits.windows,
      usedNow: usage?.windows.map((w) => w.used) ?? [],
      calls: env.sim.calls(),
      throttled: env.sim.stats().throttled,
      slotExits: await readSlotExits(runtime.redis, runtime.config),
      reserve: campaign ? runtime.lanes.forTenant(campaign.tenant).reserve : [],
    });
    if (!options.json)
      out.write(tty ? `\r${formatProgress(progress)}\x1b[K` : `${formatProgress(progress)}\n`);
    if (campaign?.state === 'finished') break;
    if (signal.aborted) throw new Error('Interrupted; cleaning up');
    if (alive === 0) throw new Error(`Every worker exited early:\n${tail(workerLog(env, 0))}`);
    if (Date.now() - startedAt > options.timeoutMs)
      throw new Error(`Not finished after ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  if (tty) out.write('\n');
}

async function writeExport(runtime: Runtime, campaignId: string, path: string): Promise<void> {
  const file = createWriteStream(path, { mode: runtime.config.files.mode });
  for await (const chunk of exportDevices(runtime.store.iterateDevices(campaignId), 'csv')) {
    if (!file.write(chunk)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
  await chmod(path, runtime.config.files.mode);
}
