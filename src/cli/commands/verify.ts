import type { Command } from 'commander';
import type { VerifySummary } from '../../hunting/verify-campaign.js';
import { count } from './shared/output.js';

const EXAMPLE = `
Examples:
  fleetscan verify c-mhx1y2z3a1b2
  fleetscan verify c-mhx1y2z3a1b2 --json | jq .counts

Runs Microsoft Graph advanced hunting (POST /v1.0/security/runHuntingQuery, permission
ThreatHunting.Read.All) over DeviceEvents (AntivirusScanCompleted / Cancelled / Failed, and
AntivirusDetection) and AlertEvidence since the campaign's first request, one query per
hunting.chunkSize devices, within hunting.windows per tenant.
Only scans of the campaign's kind (ScanParametersIndex) that ended after the action was delivered
count; when another scan of that kind (a scheduled one) also ended then, the device is ambiguous.
Findings: what Defender Antivirus detected (threat, file, remediated or not) and the new alerts on
the device, from its request to its scan's end plus verify.findingsGrace.
Per device: scanResult (completed, cancelled, failed, ambiguous, no-evidence), scanCompletedAt,
scan type, threats; see them with \`fleetscan export\`. A device with a detection is announced
once (webhook campaign.threats-found). Safe to run again: results are replaced by the newer ones.`;

/** `fleetscan verify ID`: proof of completion for every device with an action. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .argument('<id>', 'campaign id')
    .description('Prove which devices completed their scan (Graph advanced hunting)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const { configFor, loggerFor, printJson } = await import('../context.js');
      const { graphClientFromConfig } = await import('../../runtime/hunting-from-config.js');
      const { verifyCampaign } = await import('../../hunting/verify-campaign.js');
      const { systemClock } = await import('../../shared/clock.js');
      const { verifyDepsFromConfig } = await import('../../runtime/verify-from-config.js');
      const { tenantConfig } = await import('./shared/tenant-config.js');
      const { requireCampaign, withSession } = await import('./shared/session.js');
      const config = configFor(command);
      const log = loggerFor(config, 'fleetscan-verify');
      await withSession(config, async ({ store, redis }) => {
        const campaign = await requireCampaign(store, id);
        // The campaign's own tenant: its devices report their scans there.
        const graph = graphClientFromConfig(tenantConfig(config, campaign.tenant), redis, log);
        try {
          const summary = await verifyCampaign(
            verifyDepsFromConfig(config, { redis, store, graph, clock: systemClock, log }),
            id,
          );
          if (options.json === true) printJson({ ...summary, message: describe(summary) });
          else process.stdout.write(`${describe(summary)}\n`);
        } finally {
          graph.close();
        }
      });
    });
}

function describe(s: VerifySummary): string {
  return (
    `Campaign ${s.campaignId}: proved complete ${count(s.counts.completed)} of ${count(s.devices)} ` +
    `(cancelled ${count(s.counts.cancelled)}, failed ${count(s.counts.failed)}, ` +
    `ambiguous ${count(s.counts.ambiguous)}, no evidence ${count(s.counts['no-evidence'])}); ` +
    `devices with detections ${count(s.findings.devices)} ` +
    `(${count(s.findings.unremediatedDevices)} not remediated, ${count(s.findings.detections)} detections); ` +
    `${count(s.queries)} hunting queries.`
  );
}
