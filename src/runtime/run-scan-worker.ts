import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { startHeartbeat, WORKER_HEARTBEAT_MS } from '../ops/worker-presence.js';
import type { ScanWorkerSettings } from '../scan/start-scan-worker.js';
import type { Logger } from '../shared/logger.js';
import { startRuntimeScheduleRunner } from './runtime-schedules.js';
import { buildRuntime, type Runtime } from './build-runtime.js';
import { startRuntimeWorker } from './start-workers.js';
import { startSweeperFromConfig } from './retention-from-config.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * The worker settings of a configuration (`worker.*`). Every entrypoint takes them from here:
 * workers of one deployment agree on them, whichever way they were started.
 */
export function workerSettingsFrom(
  config: Pick<Config, 'worker'>,
  options: { pollActionStatuses?: boolean; fireSchedules?: boolean } = {},
): ScanWorkerSettings {
  return {
    concurrency: config.worker.concurrency,
    pollActionStatuses: options.pollActionStatuses ?? true,
    ...(options.fireSchedules === undefined ? {} : { fireSchedules: options.fireSchedules }),
  };
}

/**
 * Aborts on the first SIGTERM/SIGINT. Listening starts before the slow start-up (Redis may be
 * down and waited for), so a signal then is a clean stop too. A second signal exits at once (1):
 * the devices it abandons come back to another worker once their lease (worker.lockDuration) ends.
 */
function stopOnSignal(log: () => Logger | undefined): AbortController {
  const stop = new AbortController();
  const onSignal = (name: string) => {
    if (stop.signal.aborted) {
      log()?.warn({ signal: name }, 'second signal: exiting without waiting for calls in flight');
      process.exit(1);
    }
    stop.abort(name);
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  return stop;
}

/**
 * Runs one scan worker process until SIGTERM or SIGINT, then stops taking jobs, lets the calls in
 * flight finish and be recorded, and returns (exit 0).
 */
export async function runScanWorker(
  config: Config,
  settings: ScanWorkerSettings,
  options: { log?: Logger } = {},
): Promise<void> {
  let log = options.log;
  const stop = stopOnSignal(() => log);
  let runtime: Runtime;
  try {
    runtime = await buildRuntime(config, {
      role: 'worker',
      signal: stop.signal,
      ...(log ? { log } : {}),
    });
  } catch (error) {
    if (!stop.signal.aborted) throw error;
    log?.info({ signal: String(stop.signal.reason) }, 'stopped before Redis answered');
    return;
  }
  log = runtime.log;
  // Says in Redis that this process serves these tenants (status, dashboard, doctor show it).
  const heartbeat = startHeartbeat(
    runtime.redis,
    config.redis.prefix,
    {
      host: hostname(),
      pid: process.pid,
      concurrency: settings.concurrency,
      tenants: runtime.tenants.names,
      budgets: runtime.lanes.all().map((lane) => lane.budgetId),
      startedAt: Date.now(),
    },
    {
      intervalMs: WORKER_HEARTBEAT_MS,
      onError: (error) => {
        log.debug({ reason: String(error) }, 'heartbeat not written');
      },
    },
  );
  let scanWorker;
  let schedules;
  try {
    // Each handled device is the heartbeat's "last job".
    scanWorker = startRuntimeWorker(runtime, settings, () => {
      heartbeat.noteJob();
    });
    schedules = settings.fireSchedules === false ? null : startRuntimeScheduleRunner(runtime);
  } catch (error) {
    await heartbeat.stop().catch(() => undefined);
    await runtime.close();
    throw error;
  }
  // Archives campaigns past retention.keep; one worker at a time sweeps (Redis lock).
  const sweeper = startSweeperFromConfig(config, runtime.redis, runtime.store, log);
  log.info(
    {
      concurrency: settings.concurrency,
      prefix: config.redis.prefix,
      windows: config.limits.windows,
      pid: process.pid,
    },
    'worker started',
  );
  if (!stop.signal.aborted) {
    await new Promise((resolve) => {
      stop.signal.addEventListener('abort', resolve, { once: true });
    });
  }
  log.info(
    { signal: String(stop.signal.reason) },
    'stopping: no new jobs; finishing and recording the calls in flight',
  );
  await sweeper?.stop();
  await schedules?.stop();
  await heartbeat.stop().catch(() => undefined);
  await scanWorker.close();
  await runtime.close();
  log.info('worker stopped');
}
