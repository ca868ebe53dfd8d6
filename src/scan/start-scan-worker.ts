import type { Redis } from 'ioredis';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { BudgetLane } from '../lanes/budget-lane.js';
import { startDispatcher, type Dispatcher } from '../lanes/dispatcher.js';
import { startActionStatusPoller, type ActionStatusPoller } from './action-status-poller.js';
import { createDeviceProcessor } from './process-device.js';
import type { ScanProcessorDeps } from './scan-ports.js';

export interface ScanWorkerSettings {
  /** Devices in progress at once in this process, over every tenant. */
  concurrency: number;
  /** Run the action-status poller in this process too (it takes turns through a Redis lock). */
  pollActionStatuses?: boolean;
}

export interface ScanWorkerDeps extends ScanProcessorDeps {
  /** Command connection (lanes, poller lock). */
  redis: Redis;
  /** A connection of its own for wake-ups (SUBSCRIBE). */
  subscriber: Redis;
  prefix: string;
  lanes: readonly BudgetLane[];
  store: CampaignStore;
}

export interface ScanWorker {
  dispatcher: Dispatcher;
  poller: ActionStatusPoller | null;
  /** Takes no new devices, lets the calls in flight finish and be recorded. */
  close(): Promise<void>;
}

/** The scan worker of one process: the lanes' dispatcher with the device processor, plus the poller. */
export function startScanWorker(deps: ScanWorkerDeps, settings: ScanWorkerSettings): ScanWorker {
  const processDevice = createDeviceProcessor(deps);
  const dispatcher = startDispatcher({
    lanes: deps.lanes,
    subscriber: deps.subscriber,
    prefix: deps.prefix,
    concurrency: settings.concurrency,
    log: deps.log.child({ component: 'dispatcher' }),
    process: async (grant) => (await processDevice(grant)).end,
  });
  const poller =
    settings.pollActionStatuses === false
      ? null
      : startActionStatusPoller({
          redis: deps.redis,
          prefix: deps.prefix,
          store: deps.store,
          clientFor: (tenant) => deps.clientFor(tenant),
          log: deps.log.child({ component: 'action-poller' }),
          intervalMs: deps.config.scan.actionPoll,
        });
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
