import {
  startScanWorker,
  type ScanWorker,
  type ScanWorkerSettings,
} from '../scan/start-scan-worker.js';
import { verifyAfterSettle } from '../hunting/verify-after-settle.js';
import { trackerClientFromConfig } from '../tracking/tracker-client.js';
import { scheduleClockFrom } from '../schedules/runtime-schedules.js';
import type { Runtime } from './build-runtime.js';

/**
 * A scan worker wired to a runtime: one dispatcher over every tenant's budget (one pool of
 * workers, one wake-up connection, however many tenants), each campaign's calls through its
 * tenant's client.
 */
export function startRuntimeWorker(runtime: Runtime, settings: ScanWorkerSettings): ScanWorker {
  const subscriber = runtime.redis.duplicate({ connectionName: 'fleetscan-wake' });
  subscriber.on('error', (error: Error) => {
    runtime.log.warn({ reason: error.message }, 'wake-up connection error');
  });
  const worker = startScanWorker(
    {
      redis: runtime.redis,
      subscriber,
      prefix: runtime.config.redis.prefix,
      lanes: runtime.lanes.all(),
      store: runtime.store,
      clientFor: (tenant) => runtime.tenants.get(tenant).client(),
      log: runtime.log,
      clock: runtime.clock,
      config: runtime.config,
      tracking: {
        settings: runtime.config.tracking,
        lister: trackerClientFromConfig(runtime.config, runtime),
        onSettled: verifyAfterSettle(runtime),
      },
      windowClock: scheduleClockFrom(runtime.config),
    },
    settings,
  );
  return {
    ...worker,
    async close() {
      await worker.close();
      await subscriber.quit().catch(() => undefined);
      subscriber.disconnect();
    },
  };
}
