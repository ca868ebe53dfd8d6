import type { CampaignLifecycle } from '../tracking/lifecycle-store.js';
import type { Queue } from 'bullmq';
import type { Redis } from '../shared/redis.js';
import type { ApiDeps } from '../api/api-deps.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CampaignState } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { ScheduleReader } from '../schedules/schedule-reader.js';
import type { CallStats } from '../metrics/call-stats.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LiveWorker } from '../ops/worker-presence.js';
import type { TenantReport } from '../lanes/tenant-reports.js';
import type { KillSwitchResult } from './overview.js';
import type { DashboardCredentials } from './auth.js';
import type { BudgetSource } from '../lanes/budget-usage.js';
import type { SignInDeps } from './signin/signin-routes.js';
import type { QueueExporter } from './metrics.js';
import type { CampaignStarter } from './start/campaign-starter.js';
import type { ExportWriter } from './routes/export.js';
import type { ArchiveSource } from '../retention/campaign-reader.js';
import type { MemorySettings } from '../retention/memory-headroom.js';
import type { AdminDeps } from './routes/admin.js';

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
  /** A BullMQ queue (the webhook deliveries): bull-board under `/queues`, its depths in `/metrics`. */
  queue?: Queue | undefined;
  /** The lanes' exporter (`createLaneMetrics`): lane depths, reserve and tenants in `/metrics`. */
  lanes?: QueueExporter | undefined;
  credentials: DashboardCredentials;
  /**
   * `dashboard.auth: entra`: people sign in with Entra ID and get a session; `credentials` are
   * then not used. Roles come from the ID token (src/dashboard/roles.ts).
   */
  signIn?: SignInDeps | undefined;
  /** PEM certificate and key: the dashboard speaks HTTPS only (`--tls-cert/--tls-key`). */
  https?: { cert: string; key: string } | undefined;
  /** Pause/resume/cancel buttons and a writable bull-board (`--allow-actions`). */
  allowActions: boolean;
  requireNoEviction: boolean;
  /** `redis.prefix`: `/readyz` (503) and `/metrics` (`fleetscan_store_lost`) report a Redis loss. */
  storePrefix?: string | undefined;
  control?: CampaignControl | undefined;
  /** Formats export downloads; `exportDevices` (the `export` command's writer) unless a test swaps it. */
  exportWriter?: ExportWriter | undefined;
  clock?: Clock | undefined;
  /**
   * How often the pages' live blocks are read and sent to every viewer over server-sent events
   * (`dashboard.liveInterval`, default 3 s): one read per interval, however many pages are open.
   */
  liveIntervalMs?: number | undefined;
  /** The automation API under `/api/v1` (`api.enabled`). */
  api?: ApiDeps | undefined;
  /**
   * The audit log: the `/audit` page, and where the action buttons record what they did
   * (defaults to the API's when only that is given).
   */
  audit?: AuditLog | undefined;
  /** Verify results per campaign, shown as "Proved complete: X of N" (src/tracking). */
  proof?: ((campaignId: string) => Promise<{ completed: number; of: number } | null>) | undefined;
  /** What the kill switch did per campaign (lifecycle record): on the card and the page. */
  killSwitch?: ((campaignId: string) => Promise<KillSwitchResult | null>) | undefined;
  /** The tenants panel: `readTenantReports`, what `fleetscan tenants` prints. */
  tenants?: (() => Promise<TenantReport[]>) | undefined;
  /**
   * The kill switch (`cancel --actions`), offered with `--allow-actions` behind a confirmation:
   * cancels the campaign and its own pending actions in Defender.
   */
  cancelActions?: ((campaignId: string) => Promise<unknown>) | undefined;
  /**
   * Retry of a campaign's failed devices (`retryFailed`, src/control), offered with
   * `--allow-actions` behind a confirmation.
   */
  retryFailed?: ((campaignId: string) => Promise<unknown>) | undefined;
  /**
   * Starting campaigns from the page (`/campaigns/new`, `createCampaignStarter`), offered with
   * `--allow-actions` to the operator role; left out, the page does not exist.
   */
  starter?: CampaignStarter | undefined;
  /**
   * The admin pages (`/admin/tokens`, `/admin/webhooks`, `/admin/schedules`) for the admin role,
   * offered where writes are on (`--allow-actions`, or Entra sign-in with it); left out, they do
   * not exist.
   */
  admin?: AdminDeps | undefined;
  /** Archived campaigns (listed apart, exported from their files) and the memory alarm. */
  retention?: { archives: ArchiveSource; memory: MemorySettings } | undefined;
  /** Schedules panel and schedule metrics; left out, neither is shown. */
  schedules?: ScheduleReader | undefined;
  /** Live worker processes (heartbeats): the workers panel, "no workers" and `fleetscan_workers`. */
  workers?: (() => Promise<LiveWorker[]>) | undefined;
  /** Tracking and verify progress per campaign: `/metrics` says when either falls behind. */
  lifecycle?: ((campaignId: string) => Promise<CampaignLifecycle>) | undefined;
  /** `verify.enabled`: a settled campaign then waits for its proof (`/metrics`). */
  verifyEnabled?: boolean | undefined;
  /** Webhook delivery attempts by outcome (`/metrics`). */
  webhookAttempts?: (() => Promise<Record<string, number>>) | undefined;
  /** Request errors go here; requests themselves are not logged (a wall screen polls all day). */
  log?: Logger | undefined;
}
