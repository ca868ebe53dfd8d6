import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import type { CallPermit } from '../defender/call-gate.js';
import type { EndpointFamily, MachineAction, ScanType } from '../defender/machine-action.js';
import type { ScheduleClock } from '../schedules/schedule-clock.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { MachineActionLister } from './find-own-action.js';

/** The part of the Defender client (`createDefenderClient`) a scan job uses. */
export interface ScanApi extends MachineActionLister {
  runAntiVirusScan(
    machineId: string,
    body: { comment: string; scanType: ScanType },
    options?: { permit?: CallPermit },
  ): Promise<MachineAction>;
}

/** The part of the limiter (`createScanLimiter`) a scan job uses: one Lua call, never waits. */
export interface ScanSlots {
  tryAcquire(
    family: EndpointFamily,
  ): Promise<{ permit: CallPermit; waitMs?: undefined } | { permit?: undefined; waitMs: number }>;
}

export interface ScanProcessorDeps {
  store: CampaignStore;
  client: ScanApi;
  limiter: ScanSlots;
  /**
   * Holds every worker of the queue for `ms` (BullMQ `queue.rateLimit`); the worker must be
   * built with a `limiter` option, or only the worker that threw would wait.
   */
  rateLimit(ms: number): Promise<void>;
  log: Logger;
  clock: Clock;
  config: {
    readonly scan: Config['scan'];
    readonly limits: Pick<Config['limits'], 'throttleDefault'>;
  };
  /** 0..1, spreads busy retries; `Math.random` unless a test pins it. */
  random?: () => number;
  /** How long a worker trusts its copy of a campaign (cancel/pause latency). Default 1 s. */
  campaignCacheMs?: number;
  /** How often a paused campaign's job looks again. Default 5 s. */
  pausedPollMs?: number;
  /** How long the queue is held when the tenant's delegated sign-in is gone. Default 60 s. */
  signInHoldMs?: number;
  /** The time dispatch windows are read in (compressed in demos); the wall clock by default. */
  windowClock?: ScheduleClock;
}

/** How a job ended when it did not throw. */
export type ScanOutcome = 'requested' | 'recorded-lost-reply' | 'already-done' | 'cancelled';
