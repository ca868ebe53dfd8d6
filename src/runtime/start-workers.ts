import {
  startScanWorker,
  type ScanWorker,
  type ScanWorkerSettings,
} from '../scan/start-scan-worker.js';
import { verifyAfterSettle } from '../hunting/verify-after-settle.js';
import { trackerClientFromConfig } from '../tracking/tracker-client.js';
import { scheduleClockFrom } from '../schedules/runtime-schedules.js';
import type { Runtime } from './build-runtime.js';

/** A scan worker wired to a runtime's connections, store, limiter and API client. */
export function startRuntimeWorker(runtime: Runtime, settings: ScanWorkerSettings): ScanWorker {
  const { client } = runtime.api();
  return startScanWorker(
    {
      connection: runtime.bullConnection,
      redis: runtime.redis,
      prefix: runtime.config.redis.prefix,
      store: runtime.store,
      client,
      limiter: runtime.limiter,
      log: runtime.log,
      clock: runtime.clock,
      config: runtime.config,
      rateLimit: (ms) => runtime.queue.rateLimit(ms),
      tracking: {
        settings: runtime.config.tracking,
        lister: trackerClientFromConfig(runtime.config, runtime),
        onSettled: verifyAfterSettle(runtime),
      },
      windowClock: scheduleClockFrom(runtime.config),
    },
    settings,
  );
}
