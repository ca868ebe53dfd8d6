import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import type { CallPermit } from '../defender/call-gate.js';
import type { MachineAction, ScanType } from '../defender/machine-action.js';
import type { LaneEnd } from '../lanes/budget-lane.js';
import type { ScheduleClock } from '../schedules/schedule-clock.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { TenantVerdict } from '../tenants/tenant-fault.js';
import type { MachineActionLister } from '../tracking/find-own-action.js';
import type { Reconciler } from './reconcile-campaign.js';

/** The part of the Defender client (`createDefenderClient`) a device's turn uses. */
export interface ScanApi extends MachineActionLister {
  runAntiVirusScan(
    machineId: string,
    body: { comment: string; scanType: ScanType },
    options?: { permit?: CallPermit; onSettling?: (settling: Promise<void>) => void },
  ): Promise<MachineAction>;
}

/** A device handed to the processor with the slot dispatch granted for it. */
export interface DeviceTurnInput {
  campaignId: string;
  machineId: string;
  /** Failed attempts before this turn. */
  tries: number;
  permit: CallPermit;
  /** `performance.now()` moment before which the call must not leave (its slot opens then). */
  notBefore?: number | undefined;
}

export interface ScanProcessorDeps {
  store: CampaignStore;
  /** The Defender client of a campaign's tenant (throws for an unknown tenant). */
  clientFor(tenant: string): ScanApi;
  log: Logger;
  clock: Clock;
  config: {
    readonly scan: Config['scan'];
    readonly limits: Pick<Config['limits'], 'throttleDefault'>;
  };
  /**
   * Completes a campaign's records from the API before its devices are called, when they may be
   * incomplete (src/scan/reconcile-campaign.ts). Without it such devices wait.
   */
  reconciler?: Reconciler;
  /** Told when a device is dispatched for a campaign the store does not have (store loss). */
  onMissingCampaign?: (campaignId: string) => void;
  /** 0..1, spreads busy retries and backoff; `Math.random` unless a test pins it. */
  random?: () => number;
  /** How long a process trusts its copy of a campaign (cancel/pause latency). Default 1 s. */
  campaignCacheMs?: number;
  /** The time dispatch windows are read in (compressed in demos); the wall clock by default. */
  windowClock?: ScheduleClock;
}

/** How a device's turn ended, for logs and tests. */
export type ScanOutcome =
  | 'requested'
  | 'recorded-lost-reply'
  | 'already-done'
  | 'cancelled'
  | 'failed'
  | 'deferred'
  | 'retry'
  | 'held'
  /** A tenant-wide fault (credentials, Entra, permission): the device waits untouched. */
  | 'blocked';

/** What the processor did and where the device goes in its lane. */
export interface DeviceTurn {
  outcome: ScanOutcome;
  end: LaneEnd;
  /** What the turn showed about the tenant's access; absent: it did not tell. */
  tenant?: TenantVerdict | undefined;
}
