import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { budgetIdFor } from '../../limiter/scan-limiter.js';
import { systemClock } from '../../shared/clock.js';
import { configFor, loggerFor, printJson } from '../context.js';
import { UsageError } from '../errors.js';
import { readBudget, readCampaignStatus, type CampaignStatus } from './shared/campaign-status.js';
import { limiterFromConfig } from './shared/defender-from-config.js';
import {
  describeBudget,
  renderCampaign,
  renderCampaignTable,
  renderProgress,
} from './shared/render-status.js';
import { requireCampaign, withSession } from './shared/session.js';

interface StatusOptions {
  wait?: boolean;
  json?: boolean;
  exitStatus?: boolean;
  interval: string;
}

const EXAMPLE = `
Examples:
  fleetscan status                          # every campaign, newest first
  fleetscan status c-mhx1y2z3a1b2 --json
  fleetscan status c-mhx1y2z3a1b2 --wait --exit-status && echo "no device failed"

Exit codes: 0, also when some devices failed (unless --exit-status: then 1); 1 on bad input,
an unknown campaign or an unreachable Redis. Run with the same credentials settings as the
workers so that the budget shown is theirs.`;

/** Lines to a non-TTY while waiting: at most one a minute unless something changed. */
const QUIET_LINE_MS = 60_000;

/** `fleetscan status [ID]`: counts, budget, ETA; `--wait` follows a campaign to its end. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .argument('[id]', 'campaign id (default: every campaign)')
    .description('Show campaign progress: devices per state, failures, API budget used, ETA')
    .option('--wait', 'follow the campaign until nothing is queued or deferred (through pauses)')
    .option('--json', 'print one JSON object (with --wait: the final one)')
    .option('--exit-status', 'exit 1 when any device failed')
    .option('--interval <duration>', 'how often --wait looks', '2s')
    .addHelpText('after', EXAMPLE)
    .action(async (id: string | undefined, options: StatusOptions, command: Command) => {
      const intervalMs = parseDuration(options.interval);
      if (intervalMs === undefined || intervalMs < 100) {
        throw new UsageError(
          `--interval must be a duration of at least 100ms, got ${options.interval}`,
        );
      }
      if (options.wait === true && id === undefined)
        throw new UsageError('--wait needs a campaign id.');
      const config = configFor(command);
      const log = loggerFor(config, 'fleetscan-status');
      await withSession(config, async (session) => {
        const limiter = limiterFromConfig(config, session.redis, log);
        const budgetId = budgetIdFor(config);
        if (id === undefined) {
          const campaigns = await session.store.listCampaigns();
          const budget = await readBudget(limiter, budgetId);
          if (options.json === true) printJson({ campaigns, budget });
          else
            process.stdout.write(`${renderCampaignTable(campaigns)}\n${describeBudget(budget)}\n`);
          if (options.exitStatus === true && campaigns.some((c) => c.counts.failed > 0)) {
            process.exitCode = 1;
          }
          return;
        }
        const read = async () =>
          readCampaignStatus({
            store: session.store,
            redis: session.redis,
            budget: await readBudget(limiter, budgetId),
            campaign: await requireCampaign(session.store, id),
          });
        const status =
          options.wait === true ? await follow(read, intervalMs, options) : await read();
        if (options.json === true) printJson(status);
        else process.stdout.write(`${renderCampaign(status)}\n`);
        if (options.exitStatus === true && status.campaign.counts.failed > 0) process.exitCode = 1;
      });
    });
}

/** Polls until the campaign is done, drawing progress on stderr (stdout keeps the result). */
async function follow(
  read: () => Promise<CampaignStatus>,
  intervalMs: number,
  options: StatusOptions,
): Promise<CampaignStatus> {
  const out = options.json === true ? process.stderr : process.stdout;
  const tty = out.isTTY;
  let lastLine = '';
  let lastAt = 0;
  for (;;) {
    const status = await read();
    const line = renderProgress(status);
    if (tty) {
      out.write(`\r\x1b[2K${line}`);
    } else if (line !== lastLine || systemClock.now() - lastAt >= QUIET_LINE_MS) {
      out.write(`${line}\n`);
      lastAt = systemClock.now();
    }
    lastLine = line;
    if (status.done) {
      if (tty) out.write('\n');
      return status;
    }
    await systemClock.sleep(intervalMs);
  }
}
