import { createCampaignControl } from '../../src/control/campaign-control.js';
import { withSession } from '../../src/cli/commands/shared/session.js';
import { loadConfig } from '../../src/config/load.js';
import { resetRedis, type BenchContext } from '../lib/context.js';
import { campaignCounts } from '../lib/fleetscan-runner.js';
import { deviceFile, enqueueWithFleetscan } from '../lib/machinery.js';
import { formatMs, type ScenarioResult } from '../lib/report.js';

/** The operator's commands on a large waiting campaign (issue 9 defect 8: cancel was quadratic). */
const VERBS = ['cancel', 'pause'] as const;

interface ControlRun {
  verb: (typeof VERBS)[number];
  devices: number;
  /** Time of the operation itself (what `fleetscan <verb>` does once connected). */
  elapsedMs: number;
  /** Devices still queued afterwards (0 after cancel, all of them after pause). */
  queuedAfter: number;
  cancelledAfter: number;
}

/** `fleetscan cancel` and `fleetscan pause` on a campaign of 200,000 queued devices each. */
export async function controlScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const devices = ctx.options.smoke ? 5_000 : 200_000;
  const file = await deviceFile(ctx, devices);
  const runs: ControlRun[] = [];
  for (const verb of VERBS) {
    await resetRedis(ctx);
    ctx.progress(`control: enqueue ${devices} devices, then fleetscan ${verb}`);
    const { campaignId, env } = await enqueueWithFleetscan(ctx, file, devices, 'fleetscan');
    // In this process, with the command's own session: a child process would add Node's
    // start-up, which on a loaded 2-core host alone takes seconds.
    const elapsedMs = await withSession(loadConfig({ env }), async ({ store, lanes }) => {
      const control = createCampaignControl({ store, lanes });
      const started = performance.now();
      await control[verb](campaignId);
      return performance.now() - started;
    });
    const counts = await campaignCounts(ctx.admin, 'fleetscan', campaignId);
    runs.push({
      verb,
      devices,
      elapsedMs,
      queuedAfter: counts['queued'] ?? 0,
      cancelledAfter: counts['cancelled'] ?? 0,
    });
  }
  return {
    scenario: 'control',
    elapsedMs: 0,
    tables: [
      {
        title: `Cancel and pause of a campaign with ${devices.toLocaleString('en-US')} queued devices`,
        columns: ['command', 'devices', 'time', 'queued after', 'cancelled after'],
        rows: runs.map((r) => [
          `fleetscan ${r.verb}`,
          r.devices,
          formatMs(r.elapsedMs),
          r.queuedAfter,
          r.cancelledAfter,
        ]),
      },
    ],
    notes: [
      'Each operation is timed in the bench process from the call to its return, with the same session (Redis connection, store, lanes) as `fleetscan cancel|pause ID` builds, on a campaign enqueued by `fleetscan scan --devices FILE` into an emptied private redis-server. Node start-up (seconds on a loaded host) is not included.',
      'Target (issue 9): 200,000 devices in ≤ 10 s. Cancel sweeps the devices hash in HSCAN pages with one Lua call per page; pause takes the campaign out of its lane in O(1).',
    ],
    data: runs,
  };
}
