import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import type { CampaignStore } from '../../../src/campaigns/campaign-store.js';
import { createDashboardMetrics } from '../../../src/dashboard/metrics.js';
import { systemClock } from '../../../src/shared/clock.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

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

/** Every metric name the dashboard's /metrics serves, read from a scrape over fake sources. */
async function servedNames(): Promise<Set<string>> {
  const metrics = createDashboardMetrics({
    store: { listCampaigns: () => Promise.resolve([campaign]) } as unknown as CampaignStore,
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
            { family: 'scan', windows: [{ cap: 1, windowMs: 60_000, used: 0 }], pausedUntil: null },
          ]),
      },
    ],
    // BullMQ's own exporter (Queue#exportPrometheusMetrics); its output is checked against a real
    // queue in test/redis/dashboard-metrics.redis.test.ts.
    queue: {
      exportPrometheusMetrics: () =>
        Promise.resolve('bullmq_job_count{queue="scans", state="waiting"} 0'),
    },
    clock: systemClock,
  });
  const text = await metrics.scrape();
  return new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[a-zA-Z_:][\w:]*/.exec(l)![0]),
  );
}

describe('config/grafana/fleetscan.json', () => {
  const dashboard = JSON.parse(
    readFileSync(join(root, 'config/grafana/fleetscan.json'), 'utf8'),
  ) as {
    uid: string;
    panels: Panel[];
  };

  it('queries only metrics the dashboard serves', async () => {
    const served = await servedNames();
    const exprs = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(10);
    for (const { title, expr } of exprs) {
      for (const name of expr.match(/\b(fleetscan|bullmq)_\w+/g) ?? []) {
        expect(served.has(name), `${title}: ${name}`).toBe(true);
      }
    }
  });

  it('is provisioned from the path docker-compose.yml mounts it at', () => {
    const provider = parse(
      readFileSync(join(root, 'config/grafana/provisioning/dashboards/fleetscan.yml'), 'utf8'),
    ) as {
      providers: { options: { path: string } }[];
    };
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(
      `./config/grafana/fleetscan.json:${provider.providers[0]!.options.path}/fleetscan.json`,
    );
    expect(dashboard.uid).toBe('fleetscan');
  });
});

describe('config/prometheus.yml', () => {
  it('scrapes the dashboard with the token from the compose secret', () => {
    const prometheus = parse(readFileSync(join(root, 'config/prometheus.yml'), 'utf8')) as {
      scrape_configs: {
        metrics_path: string;
        authorization: { credentials_file: string };
        static_configs: { targets: string[] }[];
      }[];
    };
    const job = prometheus.scrape_configs[0]!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0]!.targets).toEqual(['dashboard:3000']);
    expect(job.authorization.credentials_file).toBe('/run/secrets/dashboard_token');
  });
});
