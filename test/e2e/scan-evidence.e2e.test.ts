import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/build-simulator.js';
import { cliTestEnv, runCli } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';
import { withSimulator } from '../helpers/with-simulator.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const SHA = 'c0ffee'.padEnd(64, '0');
const OTHER_SHA = 'bad'.padEnd(64, '1');
const HUNT = `DeviceFileEvents | where Timestamp > ago(7d) | where SHA256 == "${SHA}"`;
/** Three alerts over 40 devices (overlapping), one naming a device never onboarded too. */
const TENANT: SimulatorOptions = {
  fleet: 300,
  incidents: [
    {
      id: '4711',
      alerts: [
        { devices: range(0, 20) },
        { devices: [...range(15, 35), { mdeDeviceId: null, deviceDnsName: 'byod-7' }] },
        { devices: range(30, 40) },
      ],
    },
  ],
  fileObservations: [
    { sha256: SHA, devices: range(100, 220) },
    { sha256: OTHER_SHA, devices: range(0, 5), agoMs: 20 * 86_400_000 },
  ],
};

let prefix: string;
let redis: Redis;
let dir: string;

useCliFixture('evidence', (t) => ({ prefix, redis, dir } = t));

function envOf(url: string, sim: Simulator): NodeJS.ProcessEnv {
  return {
    ...cliTestEnv(prefix),
    MDE_API_URL: url,
    MDE_ACCESS_TOKEN: sim.issueToken(),
    GRAPH_API_URL: url,
    GRAPH_ACCESS_TOKEN: sim.issueToken({ resource: 'https://graph.microsoft.com' }),
  };
}

async function campaigns(): Promise<number> {
  return redis.zcard(`${prefix}:campaigns`);
}

describe('fleetscan scan from evidence', () => {
  it('counts exactly the 40 devices of an incident with 3 alerts, and the 120 that saw a hash', async () => {
    await withSimulator(TENANT, async ({ url, sim }) => {
      const env = envOf(url, sim);
      const incident = await runCli(
        ['scan', '--incident', '4711', '--comment', 'IR 4711', '--dry-run', '--json'],
        { env },
      );
      expect(incident.code, incident.stderr).toBe(0);
      expect(JSON.parse(incident.stdout)).toMatchObject({
        dryRun: true,
        source: 'incident:4711',
        devices: 40,
        duplicate: 0,
        skipped: { 'not-onboarded': 1 },
      });

      const hunting = await runCli(
        ['scan', '--hunting', HUNT, '--comment', 'dropper', '--dry-run', '--json'],
        { env },
      );
      expect(hunting.code, hunting.stderr).toBe(0);
      // Two rows per device (created, then modified): 240 rows, 120 devices.
      expect(JSON.parse(hunting.stdout)).toMatchObject({
        source: `hunting[240 rows]:${HUNT}`,
        devices: 120,
      });

      const [alert] = sim.security.alerts('4711');
      const one = await runCli(
        ['scan', '--alert', alert?.id ?? '', '--comment', 'one alert', '--dry-run', '--json'],
        { env },
      );
      expect(one.code, one.stderr).toBe(0);
      expect(JSON.parse(one.stdout)).toMatchObject({
        source: `alert:${alert?.id ?? ''}`,
        devices: 20,
      });
      expect(await campaigns()).toBe(0);
      expect(sim.calls().filter((c) => c.family === 'scan')).toEqual([]);
    });
  });

  it('records the source on the campaign: the incident, or the query and its row count', async () => {
    await withSimulator(TENANT, async ({ url, sim }) => {
      const env = envOf(url, sim);
      const store = createCampaignStore(redis, prefix);
      const byIncident = await runCli(
        ['scan', '--incident', '4711', '--priority', 'urgent', '--comment', 'IR 4711', '--json'],
        { env },
      );
      expect(byIncident.code, byIncident.stderr).toBe(0);
      const first = JSON.parse(byIncident.stdout) as { campaignId: string };
      expect(first).toMatchObject({
        accepted: 40,
        priority: 'urgent',
        skipped: { 'not-onboarded': 1 },
      });
      expect((await store.getCampaign(first.campaignId))?.source).toBe('incident:4711');
      const names = `${prefix}:campaign:{${first.campaignId}}:hostnames`;
      expect(await redis.hget(names, sim.machines[0]?.id ?? '')).toBe(
        sim.machines[0]?.computerDnsName,
      );

      writeFileSync(join(dir, 'dropper.kql'), `${HUNT}\n| distinct DeviceId, DeviceName\n`);
      const byQuery = await runCli(
        [
          'scan',
          '--hunting-file',
          join(dir, 'dropper.kql'),
          '--priority',
          'urgent',
          '--comment',
          'x',
          '--json',
        ],
        { env },
      );
      expect(byQuery.code, byQuery.stderr).toBe(0);
      const second = JSON.parse(byQuery.stdout) as { campaignId: string };
      expect(second).toMatchObject({ accepted: 120 });
      expect((await store.getCampaign(second.campaignId))?.source).toBe(
        `hunting[120 rows]:${HUNT}\n| distinct DeviceId, DeviceName`,
      );
    });
  });

  it.each([
    [
      'an unknown incident',
      ['--incident', '999'],
      /Incident 999 does not exist in this tenant \(Graph answered 404/,
    ],
    [
      'an incident id that is not one',
      ['--incident', 'INC-1'],
      /--incident must be an incident's number/,
    ],
    [
      'a query without a DeviceId column',
      ['--hunting', `${HUNT} | project DeviceName, FileName`],
      /no DeviceId column \(columns: DeviceName, FileName\)/,
    ],
    [
      'a query that finds no device',
      [
        '--hunting',
        `DeviceFileEvents | where Timestamp > ago(7d) | where SHA256 == "${OTHER_SHA}"`,
      ],
      /The hunting query names no device to scan \(0 rows\)/,
    ],
    [
      'a query hunting refuses',
      ['--hunting', 'DeviceFileEvents | take 5'],
      /hunting query was refused \(Graph answered 400 BadRequest/,
    ],
    [
      'two evidence sources',
      ['--incident', '4711', '--alert', 'da1'],
      /only one of --incident, --alert/,
    ],
  ])('refuses %s, creating nothing', async (_name, args, message) => {
    await withSimulator(TENANT, async ({ url, sim }) => {
      for (const dry of [[], ['--dry-run']]) {
        const result = await runCli(['scan', ...args, '--comment', 'x', ...dry], {
          env: envOf(url, sim),
        });
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      }
      expect(await campaigns()).toBe(0);
      expect(sim.calls().filter((c) => c.family === 'scan')).toEqual([]);
    });
  });

  it('names the missing Graph permission and the fix when the app lacks it', async () => {
    await withSimulator(
      { ...TENANT, appRoles: ['Machine.Scan', 'Machine.Read.All'] },
      async ({ url, sim }) => {
        const env = envOf(url, sim);
        for (const [args, permission] of [
          [['--incident', '4711'], 'SecurityIncident.Read.All'],
          [['--alert', sim.security.alerts()[0]?.id ?? ''], 'SecurityAlert.Read.All'],
          [['--hunting', HUNT], 'ThreatHunting.Read.All'],
        ] as const) {
          const result = await runCli(['scan', ...args, '--comment', 'x'], { env });
          expect(result.code).not.toBe(0);
          expect(result.stderr).toContain(
            'Graph answered 403 Forbidden: Missing application roles.',
          );
          expect(result.stderr).toContain(
            `Fix: add the Microsoft Graph application permission ${permission} to the app registration in Entra ID and grant admin consent`,
          );
        }
        expect(await campaigns()).toBe(0);
      },
    );
  });
});
