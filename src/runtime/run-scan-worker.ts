import type { Config } from '../config/schema.js';
import type { ScanWorkerSettings } from '../scan/start-scan-worker.js';
import type { Logger } from '../shared/logger.js';
import { buildRuntime } from './build-runtime.js';
import { startRuntimeWorker } from './start-workers.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Resolves with the first SIGTERM/SIGINT. Listening starts at once, before the slow start-up
 * (module loading, Redis), so a signal during start-up is a clean stop too, not a kill.
 * A second signal exits at once (1): jobs it abandons come back through BullMQ's stalled check.
 */
function firstStopSignal(log: () => Logger | undefined): Promise<string> {
  return new Promise<string>((resolve) => {
    let received: string | undefined;
    const onSignal = (name: string) => {
      if (received) {
        log()?.warn({ signal: name }, 'second signal: exiting without waiting for calls in flight');
        process.exit(1);
      }
      received = name;
      resolve(name);
    };
    for (const name of STOP_SIGNALS) process.on(name, onSignal);
  });
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
  const stop = firstStopSignal(() => log);
  const runtime = await buildRuntime(config, { role: 'worker', ...(log ? { log } : {}) });
  log = runtime.log;
  let scanWorker;
  try {
    scanWorker = startRuntimeWorker(runtime, settings);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  log.info(
    { concurrency: settings.concurrency, prefix: config.redis.prefix, windows: config.limits.windows, pid: process.pid },
    'worker started',
  );
  const signal = await stop;
  log.info({ signal }, 'stopping: no new jobs; finishing and recording the calls in flight');
  await scanWorker.close();
  await runtime.close();
  log.info('worker stopped');
}
