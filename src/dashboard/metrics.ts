import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Campaign } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { ScheduleReader } from '../schedules/schedule-reader.js';
import type { CallStats } from '../metrics/call-stats.js';
import type { Clock } from '../shared/clock.js';
import { readBudgets, type BudgetSource } from '../lanes/budget-usage.js';
import { addRetentionGauges } from '../retention/memory-metrics.js';
import type { MemoryHeadroom } from '../retention/memory-headroom.js';
import type { CampaignLifecycle } from '../tracking/lifecycle-store.js';

/** The part of a BullMQ `Queue` the metrics use: its own Prometheus exporter. */
export interface QueueExporter {
  exportPrometheusMetrics(globalVariables?: Record<string, string>): Promise<string>;
}

export interface MetricsDeps {
  store: CampaignStore;
  stats: Pick<CallStats, 'readApiCalls' | 'readApiCallSeconds' | 'readTokenRefreshes'>;
  budgets: readonly BudgetSource[];
  queue?: QueueExporter | undefined;
  clock: Clock;
  /** Newest campaigns exported; older ones drop out so the series count stays bounded. */
  campaignLimit?: number;
  /** Redis memory and archive gauges (`src/retention`). */
  retention?: (() => Promise<{ memory: MemoryHeadroom; archivedCampaigns: number }>) | undefined;
  schedules?: ScheduleReader | undefined;
  /** Live worker processes (heartbeats): `fleetscan_workers`. */
  workers?: (() => Promise<readonly unknown[]>) | undefined;
  /** API refusals by HTTP status, every process (`fleetscan_api_denials_total`). */
  denials?: (() => Promise<Record<string, number>>) | undefined;
  /** Whether Redis lost data (src/ops/store-identity.ts): `fleetscan_store_lost`. */
  storeLost?: (() => Promise<boolean>) | undefined;
  /** Tracking and verify progress of a campaign (src/tracking): the "tracker/verify behind" alerts. */
  lifecycle?: ((campaignId: string) => Promise<CampaignLifecycle>) | undefined;
  /** `verify.enabled`: only then does a settled campaign wait for its proof. */
  verifyEnabled?: boolean | undefined;
  /** Webhook delivery attempts by outcome since the store began (src/webhooks). */
  webhookAttempts?: (() => Promise<Record<string, number>>) | undefined;
}

/** Reasons are `code: API message`; only the code is a label, so label values stay few. */
export function reasonLabel(reason: string): string {
  const code = reason.split(':', 1)[0]?.trim() ?? '';
  return /^[\w.-]{1,64}$/.test(code) ? code : 'other';
}

/**
 * A registry per dashboard (tests build many), filled from Redis on every scrape, so the numbers
 * cover every worker process on every host, not this process. Labels are campaign ids, states,
 * families, statuses, windows and reason codes: never machine ids.
 */
export function createDashboardMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetscan_dashboard_' });
  if (deps.retention) addRetentionGauges(registry, deps.retention);
  const registers = [registry];
  const g = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers });
  const c = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers });

  const redisUp = g('fleetscan_redis_up', '1 when the last scrape could read Redis');
  const storeLost = g(
    'fleetscan_store_lost',
    '1 when Redis lost data (store epoch vanished or changed, a campaign missing behind its work): see fleetscan status',
  );
  const devices = g('fleetscan_campaign_devices', 'Devices of a campaign by state', [
    'campaign',
    'state',
  ]);
  const total = g('fleetscan_campaign_devices_total', 'Devices in a campaign', ['campaign']);
  const info = g('fleetscan_campaign_info', 'Campaign name, scan type and state (value 1)', [
    'campaign',
    'name',
    'scan_type',
    'state',
  ]);
  const deferrals = c('fleetscan_campaign_deferrals_total', 'Busy answers that deferred a device', [
    'campaign',
  ]);
  const joined = g(
    'fleetscan_campaign_joined_existing',
    'Devices recorded with an action someone else started',
    ['campaign'],
  );
  const failures = g('fleetscan_campaign_failures', 'Failed devices by reason code', [
    'campaign',
    'reason',
  ]);
  const calls = c(
    'fleetscan_api_calls_total',
    'Defender API calls by endpoint family and HTTP status (0: no reply)',
    ['family', 'status'],
  );
  const throttled = c(
    'fleetscan_api_throttled_total',
    'Defender API 429 answers by endpoint family',
    ['family'],
  );
  const callSeconds = c(
    'fleetscan_api_call_seconds_total',
    'Time spent in Defender API calls by endpoint family (divide by calls for the mean latency)',
    ['family'],
  );
  const tokens = c('fleetscan_token_refreshes_total', 'Access tokens fetched');
  const used = g('fleetscan_budget_used', 'Calls in the sliding window', [
    'budget',
    'family',
    'window_seconds',
  ]);
  const cap = g('fleetscan_budget_cap', 'Most calls allowed in the sliding window', [
    'budget',
    'family',
    'window_seconds',
  ]);
  const configuredCap = g(
    'fleetscan_budget_configured_cap',
    'Configured cap of the sliding window (fleetscan_budget_cap is the effective one)',
    ['budget', 'family', 'window_seconds'],
  );
  const lowered = g(
    'fleetscan_budget_cap_lowered_timestamp_seconds',
    'When the adaptive budget last lowered an effective cap, with the reason',
    ['budget', 'family', 'reason'],
  );
  const paused = g(
    'fleetscan_budget_paused_seconds',
    'Seconds left in a pause after a 429 (0: open)',
    ['budget', 'family'],
  );
  const fires = c('fleetscan_schedule_fires_total', 'Schedule fires by outcome', ['outcome']);
  const nextFire = g(
    'fleetscan_schedule_next_fire_timestamp_seconds',
    'When a schedule next fires (unix seconds; absent when paused or ended)',
    ['schedule'],
  );
  const workers = g(
    'fleetscan_workers',
    'Live worker processes (a heartbeat within the last 15 s); 0 with work queued means nothing moves',
  );
  const untracked = g(
    'fleetscan_campaign_untracked_seconds',
    'Seconds since the tracker last read the actions of a campaign that still has unfinished ones',
    ['campaign'],
  );
  const unverified = g(
    'fleetscan_campaign_unverified_seconds',
    'Seconds a settled campaign has waited for verify (only with verify.enabled; 0 once verified)',
    ['campaign'],
  );
  const detected = g(
    'fleetscan_campaign_devices_with_detections',
    "Devices where Defender Antivirus detected something during the campaign's scan (last verify)",
    ['campaign'],
  );
  const unremediated = g(
    'fleetscan_campaign_devices_unremediated',
    'Devices with a detection that was not remediated (last verify): someone must act',
    ['campaign'],
  );
  const detections = g(
    'fleetscan_campaign_detections',
    "Antivirus detections during the campaign's scans (last verify)",
    ['campaign'],
  );
  const webhookAttempts = c(
    'fleetscan_webhook_attempts_total',
    'Webhook delivery attempts by outcome (delivered, retry: failed and tried again, failed: given up)',
    ['outcome'],
  );
  const denials = c(
    'fleetscan_api_denials_total',
    'Automation API requests refused (401, 403, 429, other 4xx on writes), by status; alert on its rate',
    ['status'],
  );
  const all = [
    detected,
    unremediated,
    detections,
    untracked,
    unverified,
    webhookAttempts,
    denials,
    workers,
    fires,
    nextFire,
    devices,
    total,
    info,
    deferrals,
    joined,
    failures,
    calls,
    throttled,
    callSeconds,
    tokens,
    used,
    cap,
    configuredCap,
    lowered,
    paused,
  ];

  /**
   * How far tracking and verify lag behind a campaign. A campaign with requested devices is
   * tracked until it settles or reaches the horizon; a settled one waits for verify when it is on.
   */
  function setLag(campaign: Campaign, life: CampaignLifecycle, now: number): void {
    const seconds = (since: number) => Math.max(0, now - since) / 1_000;
    const open = life.settledAt === null && life.trackingEndedAt === null;
    if (open && campaign.counts.requested > 0)
      untracked.set({ campaign: campaign.id }, seconds(life.lastTrackedAt ?? campaign.createdAt));
    if (life.findings) {
      detected.set({ campaign: campaign.id }, life.findings.devices);
      unremediated.set({ campaign: campaign.id }, life.findings.unremediatedDevices);
      detections.set({ campaign: campaign.id }, life.findings.detections);
    }
    if (deps.verifyEnabled && life.settledAt !== null)
      unverified.set(
        { campaign: campaign.id },
        life.verifiedAt === null ? seconds(life.settledAt) : 0,
      );
  }

  async function refresh(): Promise<void> {
    const [campaigns, apiCalls, apiSeconds, refreshes, budgets] = await Promise.all([
      deps.store.listCampaigns(),
      deps.stats.readApiCalls(),
      deps.stats.readApiCallSeconds(),
      deps.stats.readTokenRefreshes(),
      readBudgets(deps.budgets),
    ]);
    for (const metric of all) metric.reset();
    if (deps.workers) workers.set((await deps.workers()).length);
    if (deps.denials) {
      for (const [status, n] of Object.entries(await deps.denials())) denials.inc({ status }, n);
    }
    if (deps.storeLost) storeLost.set((await deps.storeLost()) ? 1 : 0);
    const now = deps.clock.now();
    for (const campaign of campaigns.slice(0, deps.campaignLimit ?? 50)) {
      const id = campaign.id;
      if (deps.lifecycle) setLag(campaign, await deps.lifecycle(id), now);
      for (const [state, n] of Object.entries(campaign.counts))
        devices.set({ campaign: id, state }, n);
      total.set({ campaign: id }, campaign.total);
      info.set(
        { campaign: id, name: campaign.name, scan_type: campaign.scanType, state: campaign.state },
        1,
      );
      deferrals.inc({ campaign: id }, campaign.deferrals);
      joined.set({ campaign: id }, campaign.joinedExisting);
      for (const [reason, n] of Object.entries(campaign.failuresByReason)) {
        failures.inc({ campaign: id, reason: reasonLabel(reason) }, n);
      }
    }
    for (const { family, status, count } of apiCalls) {
      calls.inc({ family, status: String(status) }, count);
      if (status === 429) throttled.inc({ family }, count);
    }
    for (const { family, seconds } of apiSeconds) callSeconds.inc({ family }, seconds);
    tokens.inc(refreshes);
    if (deps.schedules) {
      const [views, outcomes] = await Promise.all([
        deps.schedules.views(),
        deps.schedules.fireCounts(),
      ]);
      for (const [outcome, n] of Object.entries(outcomes)) fires.inc({ outcome }, n);
      for (const view of views) {
        if (!view.paused && view.nextFire)
          nextFire.set({ schedule: view.name }, view.nextFire.ms / 1_000);
      }
    }
    if (deps.webhookAttempts) {
      for (const [outcome, n] of Object.entries(await deps.webhookAttempts()))
        webhookAttempts.inc({ outcome }, n);
    }
    for (const budget of budgets) {
      for (const usage of budget.families) {
        for (const window of usage.windows) {
          const labels = {
            budget: budget.id,
            family: usage.family,
            window_seconds: String(window.windowMs / 1_000),
          };
          used.set(labels, window.used);
          cap.set(labels, window.cap);
          configuredCap.set(labels, window.configuredCap ?? window.cap);
        }
        if (usage.lastDecrease) {
          lowered.set(
            { budget: budget.id, family: usage.family, reason: usage.lastDecrease.reason },
            usage.lastDecrease.at / 1_000,
          );
        }
        const left = usage.pausedUntil === null ? 0 : Math.max(0, usage.pausedUntil - now) / 1_000;
        paused.set({ budget: budget.id, family: usage.family }, left);
      }
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    /** The whole exposition: prom-client's registry, then BullMQ's own queue exporter. */
    async scrape(): Promise<string> {
      let queueText = '';
      try {
        await refresh();
        queueText = deps.queue ? `${await deps.queue.exportPrometheusMetrics()}\n` : '';
        redisUp.set(1);
      } catch {
        for (const metric of all) metric.reset();
        redisUp.set(0);
      }
      return `${await registry.metrics()}${queueText}`;
    },
  };
}

export type DashboardMetrics = ReturnType<typeof createDashboardMetrics>;
