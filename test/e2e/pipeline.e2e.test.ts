import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateCompletion } from '../../src/campaigns/eta.js';
import { SUPPORTED_PLATFORMS } from '../../src/simulator/fleet.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { ensureBuilt, runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { maxInAnyWindow } from '../helpers/window-count.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';

// Microsoft's 100/min and (here) 300/10 min, at time scale 100: both windows bind on 600 devices.
const TIME_SCALE = 100;
const SIM_LIMITS = [
  { cap: 100, windowMs: 60_000 },
  { cap: 300, windowMs: 600_000 },
];
const WINDOWS = SIM_LIMITS.map((w) => ({ cap: w.cap, windowMs: w.windowMs / TIME_SCALE }));
const RATE_LIMITS = WINDOWS.map((w) => `${w.cap}/${w.windowMs}ms`).join(',');

interface ExportRow {
  machineId: string;
  state: string;
  machineActionId: string;
  reason: string;
  joinedExisting: string;
}

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-e2e-'));
}, 240_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the scan pipeline, end to end', () => {
  it('gives every known device exactly one action through faults and a SIGKILLed worker, without a 429', async () => {
    const tls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'ca.pem'), tls.cert);
    const prefix = uniquePrefix('e2e');
    const redis = new Redis(testRedisUrl());
    const workers: CliProcess[] = [];
    try {
      await withSimulator(
        {
          fleet: 600,
          seed: 7,
          timeScale: TIME_SCALE,
          rateLimits: SIM_LIMITS,
          faultRate: 0.02,
          lostRate: 0.01,
          existingActionRate: 0.3,
          latencyMs: [1, 15],
          tls,
          fleetMix: { busy: 0.05, unsupportedOs: 0.03, offline: 0.02 },
          // Busy devices stay busy for 12 s of the run: they are deferred, then scanned.
          lifecycle: { otherScanMs: 20 * 60_000 },
        },
        async ({ url, sim }) => {
          const config = join(dir, 'e2e.yaml');
          writeFileSync(
            config,
            [
              'defender: { requestTimeout: 3s }',
              'limits: { guard: 5ms, throttleDefault: 600ms }',
              'scan: { attempts: 8, backoff: 50ms, pendingRetry: 300ms, pendingRetryCap: 2s, pendingMaxWait: 90s, actionPoll: 1s }',
            ].join('\n'),
          );
          const env = {
            FLEETSCAN_CONFIG: config,
            REDIS_URL: testRedisUrl(),
            FLEETSCAN_PREFIX: prefix,
            FLEETSCAN_BUDGET_PREFIX: prefix,
            FLEETSCAN_RATE_LIMITS: RATE_LIMITS,
            MDE_API_URL: url,
            MDE_AUTHORITY_HOST: url,
            MDE_TENANT_ID: sim.credentials.tenantId,
            MDE_CLIENT_ID: sim.credentials.clientId,
            MDE_CLIENT_SECRET: sim.credentials.clientSecret,
            NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
            LOG_LEVEL: 'warn',
          };

          // The device file: every device of the fleet, unknown ids, invalid lines, duplicates.
          const known = sim.machines.map((m) => m.id);
          const unknown = Array.from({ length: 10 }, () => randomBytes(20).toString('hex'));
          const invalid = ['not-a-device', '12345', 'g'.repeat(40)];
          const duplicates = known
            .slice(0, 20)
            .map((id, i) => (i % 2 === 0 ? id.toUpperCase() : id));
          const lines = ['machineId', ...known, ...unknown, ...invalid, ...duplicates];
          writeFileSync(join(dir, 'devices.csv'), `${lines.join('\r\n')}\r\n`);

          const workerArgs = [
            'worker',
            '--concurrency',
            '8',
            '--lock-duration',
            '2s',
            '--stalled-interval',
            '500ms',
          ];
          workers.push(spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env }));
          const scan = await runCli(
            ['scan', '--devices', join(dir, 'devices.csv'), '--comment', 'e2e', '--json'],
            { env },
          );
          expect(scan.code, scan.stderr).toBe(0);
          const created = JSON.parse(scan.stdout) as {
            campaignId: string;
            accepted: number;
            invalid: number;
            duplicate: number;
          };
          expect(created).toMatchObject({
            accepted: known.length + unknown.length,
            invalid: invalid.length,
            duplicate: duplicates.length,
          });
          const campaignKey = campaignKeys(prefix, created.campaignId).campaign;
          const requested = async () =>
            Number((await redis.hget(`${campaignKey}:counts`, 'requested')) ?? 0);

          // Kill one worker outright once the campaign is well under way.
          await waitUntil(async () => (await requested()) >= 150, '150 requested devices');
          workers[0]!.child.kill('SIGKILL');
          await waitUntil(
            async () => (await redis.hget(campaignKey, 'state')) === 'finished',
            'the campaign to finish',
          );
          const started = Number(await redis.hget(campaignKey, 'createdAt'));
          const finished = Number(await redis.hget(campaignKey, 'finishedAt'));

          workers[1]!.child.kill('SIGTERM');
          const [killed, stopped] = await Promise.all(workers.map((w) => w.exited));
          expect(killed!.signal).toBe('SIGKILL');
          expect(stopped!.code, stopped!.stderr).toBe(0);

          const out = join(dir, 'export.csv');
          const exported = await runCli(
            ['export', created.campaignId, '--format', 'csv', '--out', out],
            { env },
          );
          expect(exported.code, exported.stderr).toBe(0);
          const rows = parse<ExportRow>(readFileSync(out, 'utf8'), { columns: true });
          const byId = new Map(rows.map((row) => [row.machineId, row]));
          expect(rows).toHaveLength(known.length + unknown.length);

          // Ground truth: the simulator's call log.
          const calls = sim.calls();
          const createdBy = new Map<string, string[]>();
          const existingFor = new Map<string, Set<string>>();
          for (const call of calls) {
            if (call.family !== 'scan' || call.machineId === null) continue;
            if (call.actionId)
              createdBy.set(call.machineId, [
                ...(createdBy.get(call.machineId) ?? []),
                call.actionId,
              ]);
            if (call.existingActionId)
              existingFor.set(
                call.machineId,
                (existingFor.get(call.machineId) ?? new Set()).add(call.existingActionId),
              );
          }
          for (const machine of sim.machines) {
            const row = byId.get(machine.id);
            const mine = createdBy.get(machine.id) ?? [];
            if (!SUPPORTED_PLATFORMS.includes(machine.osPlatform)) {
              expect(row, machine.id).toMatchObject({ state: 'failed' });
              expect(row?.reason).toMatch(/^(OsPlatformNotSupported|ClientVersionNotSupported): /);
              expect(mine).toHaveLength(0);
              continue;
            }
            expect(row?.state, machine.id).toBe('requested');
            expect(mine.length, machine.id).toBeLessThanOrEqual(1);
            if (mine.length === 1)
              expect(row).toMatchObject({ machineActionId: mine[0], joinedExisting: 'false' });
            else expect(existingFor.get(machine.id)?.has(row?.machineActionId ?? '')).toBe(true);
          }
          for (const id of unknown) {
            expect(byId.get(id)).toMatchObject({ state: 'failed' });
            expect(byId.get(id)?.reason).toMatch(/^(ResourceNotFound|NotFound): /);
          }

          expect(sim.stats().throttled).toBe(0);
          for (const family of ['scan', 'machineActions'] as const) {
            const times = calls
              .filter((c) => c.family === family)
              .map((c) => c.t)
              .sort((a, b) => a - b);
            for (const w of WINDOWS)
              expect(
                maxInAnyWindow(times, w.windowMs),
                `${family} ${w.windowMs}`,
              ).toBeLessThanOrEqual(w.cap);
          }
          expect(sim.stats().lostReplies + sim.stats().faults).toBeGreaterThan(0);

          // Not asserted (timing): the measured span against the best possible for as many calls.
          const scanTimes = calls.filter((c) => c.family === 'scan').map((c) => c.t);
          const span = Math.max(...scanTimes) - Math.min(...scanTimes);
          const floor = estimateCompletion({
            remaining: scanTimes.length,
            windows: WINDOWS,
            usedNow: [],
          });
          process.stdout.write(
            `pipeline e2e: ${scanTimes.length} scan calls for ${rows.length} devices; first to last ` +
              `${Math.round(span)} ms, best possible ${Math.round(floor)} ms; campaign ${finished - started} ms\n`,
          );
        },
      );
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      redis.disconnect();
      await cleanupPrefix(testRedisUrl(), prefix);
    }
  }, 240_000);
});
