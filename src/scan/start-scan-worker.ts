import type { Redis } from 'ioredis';
import { DEFAULT_TENANT } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import type { BudgetLane } from '../lanes/budget-lane.js';
import { startDispatcher, type Dispatcher } from '../lanes/dispatcher.js';
import { createActionTracker } from '../tracking/action-tracker.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import { startActionTracker, type RunningTracker } from '../tracking/start-action-tracker.js';
import { createFencedLock } from '../tracking/tracker-lock.js';
import type { MachineActionLister } from './find-own-action.js';
import { createDeviceProcessor } from './process-device.js';
import type { ScanProcessorDeps } from './scan-ports.js';

export interface ScanWorkerSettings {
  /** Devices in progress at once in this process, over every tenant. */
  concurrency: number;
  /** Run the action tracker in this process too (it takes turns through a fenced Redis lock). */
  pollActionStatuses?: boolean;
  /** Run the schedules' firing loop in this process too (one process at a time fires). */
  fireSchedules?: boolean;
}

export interface ScanWorkerDeps extends ScanProcessorDeps {
  /** Command connection (lanes, tracker lock). */
  redis: Redis;
  /** A connection of its own for wake-ups (SUBSCRIBE). */
  subscriber: Redis;
  prefix: string;
  lanes: readonly BudgetLane[];
  store: CampaignStore;
  /** The action tracker's settings and its client (its share of the budget); see src/tracking. */
  tracking?: {
    settings: Config['tracking'];
    lister: MachineActionLister;
    onSettled?: ((campaignId: string) => Promise<void>) | undefined;
  };
  /** Called after each device's turn (the heartbeat's "last job"). */
  onDeviceHandled?: (() => void) | undefined;
}

export interface ScanWorker {
  dispatcher: Dispatcher;
  poller: RunningTracker | null;
  /** Takes no new devices, lets the calls in flight finish and be recorded. */
  close(): Promise<void>;
}

/**
 * The scan worker of one process: the lanes' dispatcher with the device processor, plus the
 * action tracker (one process at a time through its fenced lock).
 */
export function startScanWorker(deps: ScanWorkerDeps, settings: ScanWorkerSettings): ScanWorker {
  const processDevice = createDeviceProcessor(deps);
  const dispatcher = startDispatcher({
    lanes: deps.lanes,
    subscriber: deps.subscriber,
    prefix: deps.prefix,
    concurrency: settings.concurrency,
    log: deps.log.child({ component: 'dispatcher' }),
    process: async (grant) => {
      const { end } = await processDevice(grant);
      deps.onDeviceHandled?.();
      return end;
    },
  });
  const trackerLog = deps.log.child({ component: 'action-tracker' });
  const tracking = deps.tracking;
  const intervalMs = tracking?.settings.interval ?? deps.config.scan.actionPoll;
  const poller =
    settings.pollActionStatuses === false
      ? null
      : startActionTracker(
          createActionTracker({
            store: deps.store,
            lifecycle: createLifecycleStore(deps.redis, deps.prefix),
            lister: tracking?.lister ?? deps.clientFor(DEFAULT_TENANT),
            lock: createFencedLock(
              deps.redis,
              `${deps.prefix}:lock:action-tracker`,
              tracking?.settings.lockTtl ?? 60_000,
            ),
            clock: deps.clock,
            log: trackerLog,
            settings: {
              intervalMs,
              horizonMs: tracking?.settings.horizon ?? 7 * 86_400_000,
              requestor: tracking?.settings.requestor,
            },
            ...(tracking?.onSettled ? { onSettled: tracking.onSettled } : {}),
          }),
          intervalMs,
          trackerLog,
        );
  let closing: Promise<void> | undefined;
  return {
    dispatcher,
    poller,
    close() {
      closing ??= (async () => {
        await poller?.stop();
        await dispatcher.close();
      })();
      return closing;
    },
  };
}
