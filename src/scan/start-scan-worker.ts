import type { Redis } from '../shared/redis.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import type { BudgetLane } from '../lanes/budget-lane.js';
import type { BreakerChange } from '../lanes/budget-breaker.js';
import { logBreakerChange, settleBreaker } from '../lanes/breaker-turn.js';
import { startDispatcher, type Dispatcher } from '../lanes/dispatcher.js';
import { createActionTracker } from '../tracking/action-tracker.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import { startActionTracker, type RunningTracker } from '../tracking/start-action-tracker.js';
import { createFencedLock, trackerLockKey } from '../tracking/tracker-lock.js';
import type { MachineActionLister } from '../tracking/find-own-action.js';
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
  /** A budget blocked or resumed (already logged): webhooks, for instance. Should not reject. */
  onBreakerChange?: (lane: BudgetLane, change: BreakerChange) => Promise<void>;
  /** The action tracker's settings and its clients (their share of each budget); see src/tracking. */
  tracking?: {
    settings: Config['tracking'];
    /** The tracker's client of one tenant; may throw (unknown tenant, no credentials). */
    listerFor(tenant: string): MachineActionLister;
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
 * action tracker of every tenant with campaigns to follow (one process at a time per tenant,
 * through that tenant's fenced lock).
 */
export function startScanWorker(deps: ScanWorkerDeps, settings: ScanWorkerSettings): ScanWorker {
  const processDevice = createDeviceProcessor(deps);
  const dispatcher = startDispatcher({
    lanes: deps.lanes,
    subscriber: deps.subscriber,
    prefix: deps.prefix,
    concurrency: settings.concurrency,
    log: deps.log.child({ component: 'dispatcher' }),
    process: async (grant, lane) => {
      const turn = await processDevice(grant);
      deps.onDeviceHandled?.();
      try {
        const change = await settleBreaker(lane, grant.probe, turn.tenant);
        if (change.kind !== 'none') {
          logBreakerChange(deps.log, lane.budgetId, change);
          await deps.onBreakerChange?.(lane, change);
        }
      } catch (error) {
        // The next fault trips it again, and a probe claim runs out after one device lease.
        deps.log.warn({ budget: lane.budgetId, reason: String(error) }, 'breaker not updated');
      }
      return turn.end;
    },
  });
  const trackerLog = deps.log.child({ component: 'action-tracker' });
  const tracking = deps.tracking;
  const intervalMs = tracking?.settings.interval ?? deps.config.scan.actionPoll;
  const lifecycle = createLifecycleStore(deps.redis, deps.prefix);
  // One tracker per tenant, each with that tenant's client and its own lock.
  const trackerFor = (tenant: string) =>
    createActionTracker({
      tenant,
      store: deps.store,
      lifecycle,
      lister: tracking ? tracking.listerFor(tenant) : deps.clientFor(tenant),
      lock: createFencedLock(
        deps.redis,
        trackerLockKey(deps.prefix, tenant),
        tracking?.settings.lockTtl ?? 60_000,
      ),
      clock: deps.clock,
      log: trackerLog.child({ tenant }),
      settings: {
        intervalMs,
        horizonMs: tracking?.settings.horizon ?? 7 * 86_400_000,
        requestor: tracking?.settings.requestor,
      },
      ...(tracking?.onSettled ? { onSettled: tracking.onSettled } : {}),
    });
  const poller =
    settings.pollActionStatuses === false
      ? null
      : startActionTracker(
          { store: deps.store, lifecycle, trackerFor, log: trackerLog },
          intervalMs,
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
