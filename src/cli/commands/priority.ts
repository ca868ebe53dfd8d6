import type { Command } from 'commander';
import { PRIORITIES, type Priority } from '../../campaigns/campaign.js';
import { UsageError } from '../errors.js';
import { audited } from '../../audit/record-audit.js';
import { cliAudit } from './shared/cli-audit.js';

const EXAMPLE = `
Examples:
  fleetscan priority c-mhx1y2z3a1b2 urgent        # an incident: take the reserve, go first
  fleetscan priority c-mhx1y2z3a1b2 background --json`;

/** `fleetscan priority ID CLASS`: moves a campaign to another dispatch class. */
export function registerPriorityCommand(program: Command): void {
  program
    .command('priority')
    .argument('<id>', 'campaign id')
    .argument('<class>', PRIORITIES.join(' | '))
    .description(
      "Change a campaign's class: urgent may use the reserve and goes first, then normal, then background",
    )
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (id: string, text: string, options: { json?: boolean }, command: Command) => {
      const priority = PRIORITIES.find((p) => p === text.trim().toLowerCase());
      if (!priority) {
        throw new UsageError(`<class> must be one of ${PRIORITIES.join(', ')}, got ${text}`);
      }
      const { configFor, printJson } = await import('../context.js');
      const { createCampaignControl } = await import('../../control/campaign-control.js');
      const { requireCampaign, withSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withSession(config, async (session) => {
        const { store, lanes } = session;
        const { campaign, result } = await audited(
          cliAudit(session),
          {
            action: 'campaign.priority',
            target: id,
            detail: (done) => `${done.result.previous} -> ${priority}`,
          },
          async () => {
            const found = await requireCampaign(store, id);
            // As pause and resume refuse: a class means nothing to a campaign with nothing waiting.
            if (found.state === 'finished' || found.state === 'cancelled') {
              throw new UsageError(
                `Campaign ${id} is ${found.state}; nothing of it waits, so its class cannot change.` +
                  (found.state === 'finished' && found.counts.failed > 0
                    ? ` To call its failed devices again: fleetscan retry ${id}`
                    : ''),
              );
            }
            return {
              campaign: found,
              result: await createCampaignControl({ store, lanes }).setPriority(id, priority),
            };
          },
        );
        const message = describe(id, result.previous, priority, campaign.state);
        if (options.json === true) printJson({ campaignId: id, ...result, message });
        else process.stdout.write(`${message}\n`);
      });
    });
}

function describe(id: string, previous: Priority, priority: Priority, state: string): string {
  if (previous === priority) return `Campaign ${id} is already ${priority}.`;
  const moving =
    state === 'running'
      ? 'its waiting devices are dispatched in that class from the next free slot'
      : state === 'paused'
        ? 'it keeps that class when resumed'
        : `it is ${state}: nothing of it waits`;
  return `Campaign ${id} moved from ${previous} to ${priority}; ${moving}.`;
}
