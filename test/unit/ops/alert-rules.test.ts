import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageRoot } from '../../../src/shared/package-root.js';
import { servedMetricNames } from '../../helpers/served-metrics.js';

const root = packageRoot();
const RULES = join(root, 'config', 'alerts.yml');
const RULE_TESTS = join(root, 'config', 'alerts.test.yml');

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}

const rules = (
  parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const cases = (parse(readFileSync(RULE_TESTS, 'utf8')) as { tests: RuleTest[] }).tests.flatMap(
  (t) => t.alert_rule_test ?? [],
);

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
  if (run.error) {
    throw new Error(
      `promtool is needed (Debian's prometheus package; npm test's pretest installs it): ${run.error.message}`,
    );
  }
  return run;
}

describe('alert rules (config/alerts.yml)', () => {
  it('pass promtool check rules', () => {
    const run = promtool('check', 'rules', RULES);
    expect(run.stdout + run.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.status).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const run = promtool('test', 'rules', RULE_TESTS);
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('test every rule both firing and quiet', () => {
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it('give every rule a severity, a summary and a runbook section that exists in the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1] ?? '')));
    for (const rule of rules) {
      expect(['page', 'ticket'], rule.alert).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      const runbook = rule.annotations?.['runbook_url'] ?? '';
      expect(runbook, rule.alert).toMatch(/^README\.md#/);
      expect(anchors, `${rule.alert}: ${runbook}`).toContain(runbook.replace('README.md#', ''));
    }
  });

  it("use only metrics the dashboard's /metrics serves", async () => {
    const served = await servedMetricNames();
    for (const rule of rules) {
      for (const [name] of rule.expr.matchAll(/\bfleetscan_\w+/g)) {
        expect(served.has(name), `${rule.alert} uses ${name}`).toBe(true);
      }
    }
  });
});
