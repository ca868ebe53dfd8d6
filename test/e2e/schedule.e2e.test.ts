import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scheduledCampaignId } from '../../src/campaigns/campaign-id.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { createScheduleStore } from '../../src/schedules/schedule-store.js';
import { packageRoot } from '../../src/shared/package-root.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { ensureBuilt, runCli, spawnCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';

const CLEAN_FLEET = {
  inactive: 0,
  excluded: 0,
  duplicate: 0,
  unsupportedOs: 0,
  offline: 0,
  busy: 0,
};
const API_MINUTE = 60_000;

let dir: string;
let prefix: string;
let redis: Redis;
const workers: CliProcess[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-schedule-'));
  prefix = uniquePrefix('schede2e');
  redis = new Redis(testRedisUrl());
});

afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function writeConfig(): string {
  const configFile = join(dir, 'fleetscan.yaml');
  writeFileSync(
    configFile,
    [
      'limits:',
      '  windows: 100/600ms,1500/36s',
      '  guard: 5ms',
      'scan:',
      '  pendingRetry: 300ms',
      '  pendingRetryCap: 1s',
      '  actionPoll: 1s',
      'worker:',
      '  lockDuration: 2s',
      '  stalledInterval: 1s',
      'schedules:',
      '  tick: 50ms',
      '  lockTtl: 1s',
      '  timeScale: 100',
      `  timeOrigin: ${String(Date.now())}`,
      '',
    ].join('\n'),
  );
  return configFile;
}

/** What every process of a test gets: its prefixes, the ×100 configuration, the simulator. */
function simulatorEnv(url: string, sim: Simulator): NodeJS.ProcessEnv {
  return {
    REDIS_URL: testRedisUrl(),
    FLEETSCAN_PREFIX: prefix,
    FLEETSCAN_BUDGET_PREFIX: prefix,
    FLEETSCAN_CONFIG: writeConfig(),
    MDE_API_URL: url,
    MDE_ACCESS_TOKEN: sim.issueToken(),
    LOG_LEVEL: 'info',
  };
}

const FIXTURE = join(packageRoot(), 'test', 'e2e', 'fixtures', 'claim-and-stop.ts');

/**
 * A firing loop in its own Node process that sends itself `signal` right after claiming a
 * planned time (fixtures/claim-and-stop.ts, compiled on the fly by vite as vitest does).
 */
function claimAndStop(signal: 'SIGKILL' | 'SIGSTOP', env: NodeJS.ProcessEnv) {
  const script = `
    import { runnerImport } from 'vite';
    const { module } = await runnerImport(${JSON.stringify(FIXTURE)}, { root: ${JSON.stringify(packageRoot())}, configFile: false, logLevel: 'silent' });
    await module.run(${JSON.stringify(signal)});
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packageRoot(),
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => {
        resolve({ code, signal: sig });
      });
    },
  );
  return { child, exited, stderr: () => stderr };
}

/** Whether the process is stopped (SIGSTOP): state `T` in /proc/PID/stat. */
function isStopped(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
}

describe('fleetscan schedule (e2e, simulator at ×100)', () => {
  it.each([2, 5])(
    'fires every API minute three times with %i worker processes: three campaigns, one action per device per run',
    async (processes) => {
      await withSimulator(
        { timeScale: 100, latencyMs: [1, 3], fleet: 10, fleetMix: CLEAN_FLEET },
        async ({ url, sim }) => {
          const env = simulatorEnv(url, sim);
          for (let i = 0; i < processes; i += 1)
            workers.push(spawnCli(['worker', '--concurrency', '4'], { env }));
          for (const w of workers)
            await waitForOutput(w, (t) => t.includes('worker started'), 60_000);

          const added = await runCli(
            [
              'schedule',
              'add',
              'every-minute',
              '--cron',
              '* * * * *',
              '--all',
              '--comment',
              'e2e',
              '--overlap',
              'allow',
              '--max-runs',
              '3',
              '--json',
            ],
            { env: { ...env, LOG_LEVEL: 'warn' } },
          );
          expect(added.stderr).toBe('');
          expect(added.code).toBe(0);
          expect(JSON.parse(added.stdout)).toMatchObject({ created: true, spec: { maxRuns: 3 } });

          const schedules = createScheduleStore(redis, prefix);
          const campaigns = createCampaignStore(redis, prefix);
          await until(
            'three runs',
            async () => (await schedules.history('every-minute')).length >= 3,
            30_000,
          );
          await until(
            'three finished campaigns',
            async () =>
              (await campaigns.listCampaigns()).filter((c) => c.state === 'finished').length >= 3,
            30_000,
          );
          // Three more API minutes: nothing else may fire (max runs) and nothing fire twice.
          await new Promise((resolve) => setTimeout(resolve, 3 * (API_MINUTE / 100)));
          for (const w of workers) w.child.kill('SIGTERM');
          for (const w of workers) expect((await w.exited).code, w.stderr()).toBe(0);

          const history = (await schedules.history('every-minute', 1000)).reverse();
          // Every planned time appears exactly once, one API minute after the one before.
          const planned = history.map((r) => r.planned);
          expect(planned.slice(1).map((p, i) => p - (planned[i] ?? 0))).toEqual(
            planned.slice(1).map(() => API_MINUTE),
          );
          expect(history.filter((r) => r.outcome === 'started')).toHaveLength(3);
          // At 0.6 s real per API minute, a tick held up on a loaded machine may find two planned
          // times due at once: the older is then missed (never run late), not a second run.
          const others = history.filter((r) => r.outcome !== 'started');
          expect(others.every((r) => r.reason === 'superseded by a later planned time')).toBe(true);
          const runs = await campaigns.listCampaigns();
          expect(runs).toHaveLength(3);
          expect(new Set(runs.map((c) => c.id))).toEqual(
            new Set(history.filter((r) => r.campaignId !== null).map((r) => r.campaignId)),
          );
          for (const run of runs) {
            expect(run).toMatchObject({
              schedule: 'every-minute',
              priority: 'background',
              total: 10,
            });
            const actions = sim.actions().filter((a) => a.requestorComment.includes(run.id));
            expect(actions).toHaveLength(10);
            expect(new Set(actions.map((a) => a.machineId)).size).toBe(10);
            expect(
              actions.every((a) => a.requestorComment.includes('(schedule every-minute)')),
            ).toBe(true);
          }
          expect(sim.calls().filter((c) => c.family === 'scan' && c.status === 201)).toHaveLength(
            30,
          );
        },
      );
    },
    120_000,
  );

  it('after the only worker was stopped over three planned times and restarted, fires once and records the others missed', async () => {
    await withSimulator(
      { timeScale: 100, latencyMs: [1, 3], fleet: 5, fleetMix: CLEAN_FLEET },
      async ({ url, sim }) => {
        const env = simulatorEnv(url, sim);
        const schedules = createScheduleStore(redis, prefix);
        const startWorker = async () => {
          const w = spawnCli(['worker', '--concurrency', '4'], { env });
          workers.push(w);
          await waitForOutput(w, (t) => t.includes('worker started'), 60_000);
          return w;
        };
        const first = await startWorker();
        const added = await runCli(
          [
            'schedule',
            'add',
            'restart',
            '--cron',
            '*/2 * * * *',
            '--all',
            '--comment',
            'e2e',
            '--overlap',
            'allow',
            '--catchup',
            '3m',
            '--max-runs',
            '2',
          ],
          { env: { ...env, LOG_LEVEL: 'warn' } },
        );
        expect(added.code).toBe(0);
        await until(
          'the first run',
          async () => (await schedules.history('restart')).length >= 1,
          30_000,
        );
        first.child.kill('SIGTERM');
        expect((await first.exited).code).toBe(0);
        // Four planned times (two API minutes apart) pass with no worker at all.
        await new Promise((resolve) => setTimeout(resolve, 8 * (API_MINUTE / 100)));
        const second = await startWorker();
        await until(
          'a run after the restart',
          async () =>
            (await schedules.history('restart', 1000)).filter((r) => r.outcome === 'started')
              .length >= 2,
          30_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 6 * (API_MINUTE / 100)));
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);

        const history = (await schedules.history('restart', 1000)).reverse();
        const outcomes = history.map((r) => r.outcome);
        expect(outcomes[0]).toBe('started');
        expect(outcomes.at(-1)).toBe('started');
        const missed = outcomes.slice(1, -1);
        expect(missed.length).toBeGreaterThanOrEqual(3);
        expect(missed.every((o) => o === 'missed')).toBe(true);
        // The run after the restart is the newest planned time, found within the catch-up.
        const last = history.at(-1);
        expect((last?.actual ?? 0) - (last?.planned ?? 0)).toBeLessThanOrEqual(3 * API_MINUTE);
        expect(new Set(history.map((r) => r.planned)).size).toBe(history.length);
        const campaigns = await createCampaignStore(redis, prefix).listCampaigns();
        expect(campaigns).toHaveLength(2); // never a burst
      },
    );
  }, 180_000);

  describe('a process dies or stalls between claiming a planned time and creating its campaign', () => {
    /** `schedule add NAME`: every API minute, every device, one run only. */
    async function addOneRun(name: string, env: NodeJS.ProcessEnv) {
      const added = await runCli(
        ['schedule', 'add', name, '--cron', '* * * * *', '--all', '--comment', 'e2e'].concat([
          '--overlap',
          'allow',
          '--max-runs',
          '1',
        ]),
        { env: { ...env, LOG_LEVEL: 'warn' } },
      );
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
    }

    async function startWorkers(count: number, env: NodeJS.ProcessEnv) {
      for (let i = 0; i < count; i += 1)
        workers.push(spawnCli(['worker', '--concurrency', '4'], { env }));
      for (const w of workers) await waitForOutput(w, (t) => t.includes('worker started'), 60_000);
    }

    /** The run is in the history once, its campaign finished with one action per device. */
    async function expectRunOnce(sim: Simulator, name: string, campaignId: string) {
      const schedules = createScheduleStore(redis, prefix);
      const campaigns = createCampaignStore(redis, prefix);
      await until(
        'the campaign to finish',
        async () => (await campaigns.getCampaign(campaignId))?.state === 'finished',
        30_000,
      );
      // Three more API minutes: nothing fires again (max runs), nothing is sent twice.
      await new Promise((resolve) => setTimeout(resolve, 3 * (API_MINUTE / 100)));
      for (const w of workers) w.child.kill('SIGTERM');
      for (const w of workers) expect((await w.exited).code, w.stderr()).toBe(0);

      // The claiming process may have found older planned times due (it starts slowly at ×100):
      // those are missed, in the same step as the claim.
      const history = await schedules.history(name, 1000);
      expect(new Set(history.map((r) => r.planned)).size).toBe(history.length);
      const started = history.filter((r) => r.outcome === 'started');
      expect(started).toHaveLength(1);
      expect(started[0]).toMatchObject({ campaignId, counts: { queued: 10 } });
      expect(history.every((r) => r === started[0] || r.outcome === 'missed')).toBe(true);
      expect((await schedules.get(name))?.state).toMatchObject({ pending: null, runs: 1 });
      const runs = await campaigns.listCampaigns();
      expect(runs.map((c) => [c.id, c.total, c.schedule])).toEqual([[campaignId, 10, name]]);
      const actions = sim.actions().filter((a) => a.requestorComment.includes(campaignId));
      expect(actions).toHaveLength(10);
      expect(new Set(actions.map((a) => a.machineId)).size).toBe(10);
      expect(sim.calls().filter((c) => c.family === 'scan' && c.status === 201)).toHaveLength(10);
    }

    it('killed (SIGKILL): two workers started afterwards run the claimed time exactly once', async () => {
      await withSimulator(
        { timeScale: 100, latencyMs: [1, 3], fleet: 10, fleetMix: CLEAN_FLEET },
        async ({ url, sim }) => {
          const env = simulatorEnv(url, sim);
          await addOneRun('killed', env);
          const dying = claimAndStop('SIGKILL', env);
          expect((await dying.exited).signal, dying.stderr()).toBe('SIGKILL');

          const pending = (await createScheduleStore(redis, prefix).get('killed'))?.state.pending;
          if (!pending) throw new Error('the killed process left no claim');
          expect(pending.campaignId).toBe(scheduledCampaignId('killed', pending.planned));
          expect(await createCampaignStore(redis, prefix).listCampaigns()).toEqual([]);
          expect(sim.calls().filter((c) => c.family === 'scan')).toEqual([]);

          await startWorkers(2, env);
          await expectRunOnce(sim, 'killed', pending.campaignId);
        },
      );
    }, 120_000);

    it('stalled (SIGSTOP) past its lease: the workers run the claimed time, and the stale process going on afterwards doubles nothing', async () => {
      await withSimulator(
        { timeScale: 100, latencyMs: [1, 3], fleet: 10, fleetMix: CLEAN_FLEET },
        async ({ url, sim }) => {
          const env = simulatorEnv(url, sim);
          await addOneRun('stalled', env);
          const schedules = createScheduleStore(redis, prefix);
          const stalled = claimAndStop('SIGSTOP', env);
          await until(
            'the claim, and the claiming process stopped',
            async () =>
              isStopped(stalled.child.pid) &&
              (await schedules.get('stalled'))?.state.pending != null,
            60_000,
          );
          const pending = (await schedules.get('stalled'))?.state.pending;
          if (!pending) throw new Error('no claim');

          await startWorkers(2, env);
          await until(
            'a worker to complete the claim',
            async () => (await schedules.get('stalled'))?.state.pending === null,
            30_000,
          );
          stalled.child.kill('SIGCONT'); // it goes on with the same run
          expect(await stalled.exited, stalled.stderr()).toEqual({ code: 0, signal: null });
          expect(stalled.stderr()).toMatch(/run already recorded by another process/);
          await expectRunOnce(sim, 'stalled', pending.campaignId);
        },
      );
    }, 120_000);
  });
});
