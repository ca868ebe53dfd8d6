import type { Command } from 'commander';
import { createCampaignControl, type ControlResult } from '../../campaigns/campaign-control.js';
import { configFor, printJson } from '../context.js';
import { count } from './shared/output.js';
import { requireCampaign, withSession } from './shared/session.js';

type Verb = 'cancel' | 'pause' | 'resume';

const HELP: Record<Verb, { description: string; example: string }> = {
  cancel: {
    description:
      'Cancel a campaign: its queued and deferred devices end cancelled, calls in flight finish',
    example: 'fleetscan cancel c-mhx1y2z3a1b2',
  },
  pause: {
    description: 'Pause a campaign: no new calls for it until resumed (devices keep their place)',
    example: 'fleetscan pause c-mhx1y2z3a1b2 --json',
  },
  resume: {
    description:
      'Resume a paused campaign (safe to repeat: re-queues what is missing, doubles nothing)',
    example: 'fleetscan resume c-mhx1y2z3a1b2',
  },
};

/** `fleetscan cancel|pause|resume ID`: see `campaign-control.ts` for how each works. */
export function registerCancelCommands(program: Command): void {
  for (const verb of ['cancel', 'pause', 'resume'] as const) {
    program
      .command(verb)
      .argument('<id>', 'campaign id')
      .description(HELP[verb].description)
      .option('--json', 'print one JSON object')
      .addHelpText('after', `\nExample:\n  ${HELP[verb].example}`)
      .action(async (id: string, options: { json?: boolean }, command: Command) => {
        const config = configFor(command);
        await withSession(config, async ({ store, lanes }) => {
          await requireCampaign(store, id);
          const control = createCampaignControl({ store, lanes });
          const result = await control[verb](id);
          if (options.json === true)
            printJson({ action: verb, ...result, message: describe(verb, result) });
          else process.stdout.write(`${describe(verb, result)}\n`);
        });
      });
  }
}

/** Says what happened, including the no-ops (a finished campaign cannot be cancelled). */
function describe(verb: Verb, r: ControlResult): string {
  const id = r.campaignId;
  if (r.previous === 'finished' || (r.previous === 'cancelled' && verb !== 'cancel')) {
    return `Campaign ${id} is already ${r.previous}; nothing to ${verb}.`;
  }
  if (r.previous === 'cancelled') {
    return `Campaign ${id} was already cancelled; ${count(r.devicesCancelled)} leftover waiting devices cancelled now.`;
  }
  if (verb === 'cancel') {
    return (
      `Campaign ${id} cancelled: ${count(r.devicesCancelled)} waiting devices cancelled and taken ` +
      `out of line. Calls already in flight finish and are recorded.`
    );
  }
  if (verb === 'pause') {
    if (r.state === 'finished')
      return `Campaign ${id} had nothing left to call for: it is finished.`;
    return r.previous === 'paused'
      ? `Campaign ${id} was already paused (${count(r.jobsRemoved)} devices waiting).`
      : `Campaign ${id} paused: its ${count(r.jobsRemoved)} waiting devices keep their place; calls in flight finish. ` +
          `Continue with: fleetscan resume ${id}`;
  }
  return r.state === 'finished'
    ? `Campaign ${id} had nothing left to call for: it is finished.`
    : `Campaign ${id} running: ${count(r.jobsSubmitted)} waiting devices handed to the workers.`;
}
