import type { Command } from 'commander';
import type { ControlResult } from '../../control/campaign-control.js';
import { UsageError } from '../errors.js';
import { count } from './shared/output.js';
import { audited } from '../../audit/record-audit.js';
import type { CancelActionsSummary } from '../../control/cancel-actions.js';
import { cliAudit } from './shared/cli-audit.js';

type Verb = 'cancel' | 'pause' | 'resume';

type Done =
  { kind: 'state'; result: ControlResult } | { kind: 'actions'; summary: CancelActionsSummary };

function actionsDetail(s: CancelActionsSummary): string {
  return (
    `${String(s.waitingCancelled)} waiting stopped, ${String(s.cancelled)} actions cancelled, ` +
    `${String(s.alreadyFinal)} already final, ${String(s.refused)} refused`
  );
}

interface CancelOptions {
  json?: boolean;
  actions?: boolean;
  comment?: string;
}

const HELP: Record<Verb, { description: string; example: string }> = {
  cancel: {
    description:
      'Cancel a campaign: its queued and deferred devices end cancelled, calls in flight finish',
    example:
      'fleetscan cancel c-mhx1y2z3a1b2\n  fleetscan cancel c-mhx1y2z3a1b2 --actions --comment "wrong devices"',
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
    const sub = program
      .command(verb)
      .argument('<id>', 'campaign id')
      .description(HELP[verb].description)
      .option('--json', 'print one JSON object');
    if (verb === 'cancel') {
      sub
        .option(
          '--actions',
          "also cancel the campaign's own Pending/InProgress actions in Defender (never joined ones)",
        )
        .option(
          '--comment <text>',
          'cancellation comment sent with --actions',
          'Cancelled by fleetscan',
        );
    }
    sub
      .addHelpText('after', `\nExample:\n  ${HELP[verb].example}`)
      .action(async (id: string, options: CancelOptions, command: Command) => {
        const { configFor, printJson } = await import('../context.js');
        const { createCampaignControl } = await import('../../control/campaign-control.js');
        const { runCancelActions } = await import('./cancel-actions.js');
        const { requireCampaign, withSession } = await import('./shared/session.js');
        const config = configFor(command);
        await withSession(config, async (session) => {
          const { store, lanes } = session;
          const killSwitch = verb === 'cancel' && options.actions === true;
          const done = await audited(
            cliAudit(session),
            {
              action: `campaign.${verb}`,
              target: id,
              detail: (d: Done) =>
                d.kind === 'actions'
                  ? `+actions: ${actionsDetail(d.summary)}`
                  : `${d.result.previous} -> ${d.result.state}`,
            },
            async (): Promise<Done> => {
              const campaign = await requireCampaign(store, id);
              if (
                verb !== 'cancel' &&
                (campaign.state === 'cancelled' || campaign.state === 'finished')
              )
                throw new UsageError(
                  `Campaign ${id} is ${campaign.state}; it cannot be ${verb === 'pause' ? 'paused' : 'resumed'}. ` +
                    'Start a new campaign with `fleetscan scan`.',
                );
              if (killSwitch) {
                return {
                  kind: 'actions',
                  summary: await runCancelActions(session, config, id, options),
                };
              }
              const control = createCampaignControl({ store, lanes });
              return { kind: 'state', result: await control[verb](id) };
            },
          );
          if (done.kind === 'actions') return;
          const result = done.result;
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
      ? `Campaign ${id} is already paused (${count(r.devicesWithdrawn)} devices waiting); nothing is called for until \`fleetscan resume ${id}\`.`
      : `Campaign ${id} paused: its ${count(r.devicesWithdrawn)} waiting devices keep their place; calls in flight finish. ` +
          `Continue with: fleetscan resume ${id}`;
  }
  return r.state === 'finished'
    ? `Campaign ${id} had nothing left to call for: it is finished.`
    : `Campaign ${id} running: ${count(r.devicesQueued)} waiting devices handed to the workers.`;
}
