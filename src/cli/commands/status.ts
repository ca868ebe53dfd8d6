import type { Command } from 'commander';
import { CAMPAIGN_STATES, type CampaignState } from '../../campaigns/campaign.js';
import { UsageError } from '../errors.js';

/** Exit code when Redis lost data (the loss record of src/ops/store-identity.ts is present). */
export const STORE_LOST_EXIT = 3;

export interface StatusOptions {
  state?: string;
  wait?: boolean;
  json?: boolean;
  exitStatus?: boolean;
  ackStoreLoss?: boolean;
  interval: string;
  warnWithoutWorkers: string;
}

const EXAMPLE = `
Examples:
  fleetscan status                          # every campaign, newest first
  fleetscan status --state running,paused   # only campaigns in these states
  fleetscan status c-mhx1y2z3a1b2 --json
  fleetscan status c-mhx1y2z3a1b2 --wait --exit-status && echo "no device failed"
  fleetscan status --wait                   # until no campaign has devices waiting

Exit codes: 0, also when some devices failed (unless --exit-status: then 1); 1 on bad input,
an unknown campaign or an unreachable Redis; 3 when Redis lost data (the message says what to
re-run; then acknowledge with --ack-store-loss). Run with the same credentials settings as the
workers so that the budget shown is theirs.`;

/** `fleetscan status [ID]`: counts, budget, ETA; `--wait` follows a campaign to its end. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .argument('[id]', 'campaign id (default: every campaign)')
    .description('Show campaign progress: devices per state, failures, API budget used, ETA')
    .option(
      '--wait',
      'follow the campaign (without ID: every campaign) until nothing is queued or deferred (through pauses)',
    )
    .option(
      '--state <states>',
      `without ID: only campaigns in these states (comma-separated: ${CAMPAIGN_STATES.join(', ')})`,
    )
    .option('--json', 'print one JSON object (with --wait: the final one)')
    .option('--exit-status', 'exit 1 when any device failed')
    .option('--interval <duration>', 'how often --wait looks', '2s')
    .option(
      '--warn-without-workers <duration>',
      '--wait warns once when devices have waited this long with no live worker',
      '30s',
    )
    .option(
      '--ack-store-loss',
      'after a Redis data loss: say the lost campaigns were re-run (clears the loss report)',
    )
    .addHelpText('after', EXAMPLE)
    .action(async (id: string | undefined, options: StatusOptions, command: Command) => {
      // What status reads and prints loads only when it runs (`--help` and `--version` stay quick).
      const { runStatus } = await import('./shared/status-run.js');
      await runStatus(id, options, command);
    });
}

/** `--state running,paused` → the states, or null without the flag; a typo is a UsageError. */
export function parseStates(text: string | undefined): CampaignState[] | null {
  if (text === undefined) return null;
  const states = text.split(',').map((part) => part.trim().toLowerCase());
  const unknown = states.filter((state) => !(CAMPAIGN_STATES as readonly string[]).includes(state));
  if (unknown.length > 0 || states.length === 0)
    throw new UsageError(
      `--state: unknown state ${JSON.stringify(unknown.join(','))}; use ${CAMPAIGN_STATES.join(', ')}`,
    );
  return states as CampaignState[];
}
