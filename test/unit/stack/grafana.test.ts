import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { servedMetricNames } from '../../helpers/served-metrics.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

describe('config/grafana/fleetscan.json', () => {
  const dashboard = JSON.parse(
    readFileSync(join(root, 'config/grafana/fleetscan.json'), 'utf8'),
  ) as {
    uid: string;
    panels: Panel[];
  };

  it('queries only metrics the dashboard serves', async () => {
    const served = await servedMetricNames();
    const exprs = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(10);
    for (const { title, expr } of exprs) {
      for (const name of expr.match(/\bfleetscan_\w+/g) ?? []) {
        expect(served.has(name), `${title}: ${name}`).toBe(true);
      }
    }
  });

  it('shows tenants, classes and the reserve', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    expect(exprs).toContain('fleetscan_tenant_blocked');
    expect(exprs).toContain('sum by (priority) (fleetscan_lane_campaigns_waiting)');
    expect(exprs).toContain('fleetscan_budget_reserve');
    // Scans are no longer BullMQ jobs: a panel over bullmq_* would stay empty.
    expect(exprs).not.toContain('bullmq_');
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

  it('loads the alert rules from the path docker-compose.yml mounts them at', () => {
    const prometheus = parse(readFileSync(join(root, 'config/prometheus.yml'), 'utf8')) as {
      rule_files?: string[];
    };
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('./config/alerts.yml:/etc/prometheus/alerts.yml:ro');
  });
});
