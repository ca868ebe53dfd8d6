import type { Campaign } from '../../src/campaigns/campaign.js';
import type { CampaignStore } from '../../src/campaigns/campaign-store.js';
import { createDashboardMetrics } from '../../src/dashboard/metrics.js';
import { createLaneMetrics } from '../../src/lanes/lane-metrics.js';
import type { Lanes } from '../../src/lanes/lanes.js';
import { systemClock } from '../../src/shared/clock.js';

const campaign: Campaign = {
  id: 'c-abcdefabcdef',
  name: 'n',
  scanType: 'Quick',
  comment: 'c',
  createdAt: 0,
  createdBy: 'u',
  source: 's',
  tenant: 'default',
  priority: 'normal',
  window: null,
  schedule: null,
  state: 'running',
  finishedAt: null,
  total: 3,
  joinedExisting: 0,
  deferrals: 1,
  counts: { queued: 1, deferred: 0, requested: 1, failed: 1, cancelled: 0 },
  failuresByReason: { 'ResourceNotFound: gone': 1 },
};

/** One lane as the lane exporter reads it: only the parts `createLaneMetrics` touches. */
const lane = {
  budgetId: 'b',
  windows: [{ cap: 100, windowMs: 60_000 }],
  reserve: [10],
  breaker: { read: () => Promise.resolve(null) },
  stats: () =>
    Promise.resolve({ campaigns: { urgent: 0, normal: 1, background: 0 }, due: 0, active: 1 }),
} as unknown as ReturnType<Lanes['all']>[number];

/**
 * Every metric name the dashboard's /metrics serves (its registry and the lanes' exporter), read
 * from one scrape over fake sources that make every series appear. Grafana panels and alert rules
 * are checked against it, so neither can query a metric that is not there.
 */
export async function servedMetricNames(): Promise<Set<string>> {
  const metrics = createDashboardMetrics({
    store: {
      listCampaigns: () => Promise.resolve([campaign, { ...campaign, id: 'c-settled00000' }]),
    } as unknown as CampaignStore,
    stats: {
      readApiCalls: () => Promise.resolve([{ family: 'scan', status: 429, count: 1 }]),
      readApiCallSeconds: () => Promise.resolve([{ family: 'scan', seconds: 0.2 }]),
      readTokenRefreshes: () => Promise.resolve(1),
    },
    budgets: [
      {
        id: 'b',
        usage: () =>
          Promise.resolve([
            {
              family: 'scan',
              windows: [{ cap: 1, configuredCap: 2, windowMs: 60_000, used: 0 }],
              pausedUntil: null,
              lastDecrease: { reason: '429', at: 1 },
            },
          ]),
      },
    ],
    queue: createLaneMetrics({
      lanes: { all: () => [lane] },
      tenantsOf: () => ['default'],
      campaigns: () => Promise.resolve([campaign]),
    }),
    clock: systemClock,
    retention: () =>
      Promise.resolve({
        memory: {
          usedBytes: 1,
          limitBytes: 10,
          limitSource: 'maxmemory' as const,
          ratio: 0.1,
          roomDevices: 5,
          level: 'ok' as const,
          message: '',
        },
        archivedCampaigns: 0,
      }),
    schedules: {
      views: () => Promise.resolve([]),
      fireCounts: () => Promise.resolve({ fired: 1 }),
    } as unknown as Parameters<typeof createDashboardMetrics>[0]['schedules'],
    workers: () => Promise.resolve([]),
    storeLost: () => Promise.resolve(false),
    // One campaign still tracked, one settled and waiting for verify: both lag gauges appear.
    lifecycle: (id) =>
      Promise.resolve({
        settledAt: id === campaign.id ? null : 1,
        trackingEndedAt: null,
        openAtEnd: null,
        lastTrackedAt: null,
        verifiedAt: null,
        proof: null,
        // Findings of a verify run: the detection gauges appear.
        findings: {
          devices: 1,
          detections: 2,
          unremediatedDevices: 1,
          alertedDevices: 1,
          checked: 3,
        },
        cancels: { cancelled: 0, 'already-final': 0, refused: 0 },
      }),
    verifyEnabled: true,
    webhookAttempts: () => Promise.resolve({ delivered: 1, retry: 1 }),
    denials: () => Promise.resolve({ '403': 2, '429': 1 }),
  });
  const text = await metrics.scrape();
  return new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[a-zA-Z_:][\w:]*/.exec(l)![0]),
  );
}
