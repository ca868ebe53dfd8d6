import { paths } from '../lib/context.js';
import { startChild } from '../lib/processes.js';
import { withChaosRun, type ChaosOutcome, type ChaosSettings } from './chaos-run.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type ChaosScenario = (settings: ChaosSettings) => Promise<ChaosOutcome>;

/**
 * The faults of issue 9, each against a campaign running on real processes: the simulator's
 * action log says what reached the API. Required: 0 lost, 0 scanned twice, 0 failed (429s only
 * in the last).
 */
export const CHAOS_SCENARIOS: Record<string, ChaosScenario> = {
  'redis-kill-aof': (settings) =>
    withChaosRun('redis-kill-aof', settings, {}, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      await run.progress(id, 0.4);
      await run.restartRedis({ downMs: 1_000 });
      return { campaignId: id };
    }),

  'redis-empty-rerun': (settings) =>
    withChaosRun('redis-empty-rerun', settings, {}, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      await run.progress(id, 0.4);
      await run.restartRedis({ downMs: 1_000, empty: true });
      // What the README tells an operator to do: the same command again, into the same campaign.
      await run.scan(['--campaign-id', id]);
      return { campaignId: id };
    }),

  'aof-rollback-1s': (settings) =>
    withChaosRun('aof-rollback-1s', settings, {}, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      await run.progress(id, 0.4);
      const snapshot = run.snapshotRedis();
      await sleep(1_000);
      await run.restartRedis({ downMs: 200, restoreDir: snapshot });
      return { campaignId: id, note: 'Redis restored to its AOF of 1 s earlier' };
    }),

  'worker-sigkill-3s': (settings) =>
    withChaosRun('worker-sigkill-3s', settings, {}, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      const stop = { done: false };
      const killer = (async () => {
        for (let round = 0; ; round++) {
          await sleep(3_000);
          const c = await run.campaign(id);
          if (stop.done || !c || c.state === 'finished') return round;
          const victim = run.workers.find(
            (w) => w.process.exitCode === null && w.process.signalCode === null,
          );
          if (victim) await victim.stop('SIGKILL');
          run.startWorkers(1);
        }
      })();
      const finished = await run.waitFinished(id);
      stop.done = true;
      const kills = await killer;
      return {
        campaignId: id,
        note: `${String(kills)} workers SIGKILLed${finished ? '' : ' (not finished)'}`,
      };
    }),

  'sigterm-all': (settings) =>
    withChaosRun('sigterm-all', settings, {}, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      await run.progress(id, 0.4);
      await Promise.all(run.workers.map((w) => w.stop('SIGTERM', 60_000)));
      run.startWorkers(settings.workers);
      return { campaignId: id };
    }),

  'redis-down-status-wait': (settings) =>
    withChaosRun('redis-down-status-wait', settings, {}, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      const status = startChild(
        process.execPath,
        [paths.cli, 'status', id, '--wait', '--interval', '200ms', '--json'],
        run.env,
        'status --wait',
      );
      await run.progress(id, 0.4);
      await run.restartRedis({ downMs: 15_000 });
      await run.waitFinished(id);
      const code = await Promise.race([status.exited, sleep(30_000).then(() => 'hung')]);
      if (code === 'hung') await status.stop('SIGKILL');
      return code === 0
        ? { campaignId: id, note: 'status --wait rode out the outage' }
        : {
            campaignId: id,
            problem: `status --wait ended with ${String(code)}: ${status.stderr.slice(-1).join('')}`,
          };
    }),

  'secret-revoked': (settings) =>
    withChaosRun(
      'secret-revoked',
      settings,
      { auth: 'secret', tokenLifetimeSec: 2 },
      async (run) => {
        const id = await run.scan();
        run.startWorkers(settings.workers);
        await run.progress(id, 0.4);
        run.sim.rotateClientSecret('rotated-secret-after-revocation');
        await sleep(run.apiMs(30_000));
        // The operator puts the new secret in place and restarts the workers.
        await Promise.all(run.workers.map((w) => w.stop('SIGTERM', 30_000)));
        run.startWorkers(settings.workers, {
          ...run.env,
          MDE_CLIENT_SECRET: 'rotated-secret-after-revocation',
        });
        return { campaignId: id, note: 'secret revoked at 40 %, new secret 30 s (API time) later' };
      },
    ),

  'static-token-expired': (settings) =>
    withChaosRun('static-token-expired', settings, { tokenLifetimeSec: 3 }, async (run) => {
      const id = await run.scan();
      run.startWorkers(settings.workers);
      await sleep(4_000);
      // The operator hands over a fresh token and restarts the workers.
      await Promise.all(run.workers.map((w) => w.stop('SIGTERM', 30_000)));
      run.startWorkers(settings.workers, {
        ...run.env,
        MDE_ACCESS_TOKEN: run.sim.issueToken({ lifetimeSec: 24 * 3600 }),
      });
      return { campaignId: id, note: 'static token expired after 3 s, replaced then' };
    }),

  'server-cap-60': (settings) =>
    withChaosRun(
      'server-cap-60',
      settings,
      {
        sim: {
          rateLimits: [
            { cap: 60, windowMs: 60_000 / settings.factor },
            { cap: 1500, windowMs: 3_600_000 / settings.factor },
          ],
        },
      },
      async (run) => {
        const id = await run.scan();
        run.startWorkers(settings.workers);
        return { campaignId: id, note: 'server caps 60/min, fleetscan configured for 100/min' };
      },
    ),
};
