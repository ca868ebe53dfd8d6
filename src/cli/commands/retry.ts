import type { Command } from 'commander';
import { UnknownCampaignError } from '../../campaigns/errors.js';
import type { RetryFailedResult } from '../../control/retry-failed.js';
import { UsageError } from '../errors.js';
import { audited } from '../../audit/record-audit.js';
import { count } from './shared/output.js';
import { cliAudit } from './shared/cli-audit.js';

function describe(r: RetryFailedResult, reason: string | undefined): string {
  const skipped = Object.entries(r.skipped);
  const left =
    skipped.length === 0
      ? ''
      : ` Left failed, a retry cannot change them: ${skipped.map(([code, n]) => `${count(n)} ${code}`).join(', ')}` +
        ` (retry them anyway with --reason ${skipped[0]?.[0] ?? 'CODE'}).`;
  if (r.requeued === 0) {
    return `Campaign ${r.campaignId}: no failed devices${reason ? ` with reason ${reason}` : ''} to retry (${r.state}).${left}`;
  }
  const reasons = Object.entries(r.byReason)
    .map(([code, n]) => `${count(n)} ${code}`)
    .join(', ');
  return (
    `Campaign ${r.campaignId} ${r.state}: ${count(r.requeued)} failed devices queued again (${reasons}); ` +
    `${count(r.lookupFirst)} of them are looked up before any new call.` +
    (r.state === 'paused' ? ` Resume it to call them: fleetscan resume ${r.campaignId}` : '') +
    left
  );
}

/** `fleetscan retry ID [--reason CODE]`: the same `retryFailed` as POST /api/v1/campaigns/{id}/retry. */
export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .argument('<id>', 'campaign id')
    .description(
      'Queue the failed devices of a campaign again (all but permanent failures, or those of one failure code)',
    )
    .option(
      '--reason <code>',
      'only devices that failed with this code (as in `status`); also a permanent one such as OsPlatformNotSupported',
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  fleetscan retry c-mhx1y2z3a1b2\n  fleetscan retry c-mhx1y2z3a1b2 --reason pending-timeout --json',
    )
    .action(async (id: string, options: { reason?: string; json?: boolean }, command: Command) => {
      const { configFor, printJson } = await import('../context.js');
      const { retryFailed, RetryRefusedError } = await import('../../control/retry-failed.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withSession(config, async (session) => {
        const { redis, store, lanes } = session;
        const result = await audited(
          cliAudit(session),
          {
            action: 'campaign.retry',
            target: id,
            detail: (r: RetryFailedResult) =>
              `${String(r.requeued)} requeued${options.reason ? ` (${options.reason})` : ''}`,
          },
          () =>
            retryFailed(
              { redis, prefix: config.redis.prefix, store, lanes },
              { campaignId: id, reason: options.reason },
            ),
        ).catch((error: unknown) => {
          if (error instanceof UnknownCampaignError || error instanceof RetryRefusedError) {
            throw new UsageError(error.message);
          }
          throw error;
        });
        if (options.json === true)
          printJson({ ...result, message: describe(result, options.reason) });
        else process.stdout.write(`${describe(result, options.reason)}\n`);
      });
    });
}
