import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CampaignState } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { CallStats } from '../shared/call-stats.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { DashboardCredentials } from './auth.js';
import type { BudgetSource } from './budgets.js';
import type { QueueExporter } from './metrics.js';
import type { ExportWriter } from './routes/export.js';

/**
 * Pause, resume and cancel a campaign: `createCampaignControl` (src/campaigns), which also takes
 * the jobs out of and back into the queue. Without one, only the stored state changes.
 */
export interface CampaignControl {
  setState(
    campaignId: string,
    state: Extract<CampaignState, 'running' | 'paused' | 'cancelled'>,
  ): Promise<unknown>;
}

export interface DashboardDeps {
  store: CampaignStore;
  /** For `/readyz`: reachable, and `maxmemory-policy` as required. */
  redis: Redis;
  stats: Pick<CallStats, 'readApiCalls' | 'readApiCallSeconds' | 'readTokenRefreshes'>;
  /** Usually one: the limiter of this config (`runtime.limiter` with `budgetIdFor(config)`). */
  budgets: readonly BudgetSource[];
  /** The BullMQ `scans` queue: bull-board under `/queues` and queue depths in `/metrics`. */
  queue?: Queue | undefined;
  /** The lanes' exporter (`createLaneMetrics`): lane depths, reserve and tenants in `/metrics`. */
  lanes?: QueueExporter | undefined;
  credentials: DashboardCredentials;
  /** Pause/resume/cancel buttons and a writable bull-board (`--allow-actions`). */
  allowActions: boolean;
  requireNoEviction: boolean;
  control?: CampaignControl | undefined;
  /** Formats export downloads; `exportDevices` (the `export` command's writer) unless a test swaps it. */
  exportWriter?: ExportWriter | undefined;
  clock?: Clock | undefined;
  /** Request errors go here; requests themselves are not logged (a wall screen polls all day). */
  log?: Logger | undefined;
}
