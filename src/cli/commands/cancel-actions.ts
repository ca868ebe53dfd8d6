import { createCampaignControl } from '../../control/campaign-control.js';
import type { Config } from '../../config/schema.js';
import { cancelCampaignActions, type CancelActionsSummary } from '../../control/cancel-actions.js';
import { createLifecycleStore } from '../../tracking/lifecycle-store.js';
import { loggerFor, printJson } from '../context.js';
import { count } from './shared/output.js';
import { defenderFromConfig } from './shared/defender-from-config.js';
import { requireCampaign, type CommandSession } from './shared/session.js';

/**
 * `fleetscan cancel ID --actions`: the campaign is cancelled as by `cancel`, then every one of
 * its own actions still Pending or InProgress is cancelled through the cancel budget of the
 * campaign's tenant.
 */
export async function runCancelActions(
  session: CommandSession,
  config: Config,
  id: string,
  options: { comment?: string; json?: boolean },
): Promise<CancelActionsSummary> {
  const log = loggerFor(config, 'fleetscan-cancel');
  // The campaign's own tenant: its actions exist only there, under that tenant's cancel budget.
  const campaign = await requireCampaign(session.store, id);
  const { client } = defenderFromConfig(config, session.redis, log, campaign.tenant);
  try {
    const summary = await cancelCampaignActions(
      {
        store: session.store,
        control: createCampaignControl({ store: session.store, lanes: session.lanes }),
        client,
        lifecycle: createLifecycleStore(session.redis, config.redis.prefix),
        log,
      },
      id,
      `${options.comment ?? 'Cancelled by fleetscan'} [fleetscan:${id}]`,
    );
    if (options.json === true)
      printJson({ action: 'cancel-actions', ...summary, message: describe(summary) });
    else process.stdout.write(`${describe(summary)}\n`);
    return summary;
  } finally {
    client.close();
  }
}

function describe(s: CancelActionsSummary): string {
  const refused = Object.entries(s.refusedByCode)
    .map(([code, n]) => `${code} ${count(n)}`)
    .join(', ');
  return [
    `Campaign ${s.campaignId} cancelled: ${count(s.waitingCancelled)} waiting devices stopped.`,
    `Actions: ${count(s.cancelled)} cancelled now, ${count(s.alreadyFinal)} already final, ` +
      `${count(s.refused)} refused${refused ? ` (${refused})` : ''}; ` +
      `${count(s.joinedUntouched)} joined-existing left alone (not ours), ` +
      `${count(s.doneBefore)} settled by an earlier run.`,
  ].join('\n');
}
