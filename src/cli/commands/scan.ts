import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { PRIORITIES, type Priority } from '../../campaigns/campaign.js';
import { isCampaignId } from '../../campaigns/campaign-id.js';
import type { StartedCampaign } from '../../control/start-campaign.js';
import { SCAN_TYPES, type ScanType } from '../../defender/machine-action.js';
import { parseWindowFlag, WindowError } from '../../schedules/dispatch-window.js';
import { UsageError } from '../errors.js';
import { count, printJson } from './shared/output.js';
import type { SourceOptions } from './shared/scan-source.js';
import type { CommandSession } from './shared/session.js';
import { audited } from '../../audit/record-audit.js';
import type { Logger } from '../../shared/logger.js';
import { cliAudit } from './shared/cli-audit.js';
import {
  listWorkers,
  WORKER_HEARTBEAT_MS,
  workersOf,
  type LiveWorker,
} from '../../ops/worker-presence.js';

interface ScanOptions extends SourceOptions {
  scanType: string;
  comment: string;
  name?: string;
  campaignId?: string;
  dryRun?: boolean;
  window?: string;
  tenant?: string;
  priority?: string;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan scan --devices devices.csv --comment "Quarterly sweep" --name q4-sweep
  fleetscan scan --tag Servers --tag Finance --scan-type Full --comment "After incident 4711" --json
  fleetscan scan --all --priority background --comment "Fleet-wide sweep"   # every eligible device
  fleetscan scan --all --comment "Fleet-wide sweep" --dry-run   # how many, skipped by reason, least time
  fleetscan scan --devices devices.csv --comment "Quarterly sweep" --dry-run   # counts and time, creates nothing
  fleetscan scan --tag Workstations --window "22:00-05:00 Europe/Berlin" --comment "Overnight sweep"
  fleetscan scan --devices infected.txt --priority urgent --tenant contoso --comment "Incident 4711"
  fleetscan scan --incident 4711 --priority urgent --scan-type Full --comment "Incident 4711" --dry-run
  fleetscan scan --alert da638000000000000001_-7919 --priority urgent --comment "Alert triage"
  fleetscan scan --hunting 'DeviceFileEvents | where Timestamp > ago(7d) | where SHA256 == "<sha256>" | distinct DeviceId' \\
    --priority urgent --comment "Saw the dropper"
  cat ids.txt | fleetscan scan --devices - --comment "Ad hoc"
  # same command again after a crash or Ctrl-C: nothing is doubled, nothing lost
  fleetscan scan --devices devices.csv --comment "Quarterly sweep" --campaign-id c-mhx1y2z3a1b2`;

/** `fleetscan scan`: creates a campaign and enqueues its devices for the workers. */
export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description(
      'Create a scan campaign from a device list, a Defender query, every device, or evidence (a hunting query, an incident, an alert), and queue its devices',
    )
    .option('--devices <file>', 'CSV, text, JSON or NDJSON file of machine ids; - reads stdin')
    .option(
      '--column <name>',
      'the id column or key (default: machineId, deviceId, "Device ID", id)',
    )
    .option('--strict', 'refuse the whole file when any line is not a machine id')
    .option('--query <odata>', 'List Machines $filter selecting the devices')
    .option('--tag <tag>', 'devices carrying this tag (repeatable: any of them)', collect, [])
    .option('--group <name>', 'devices of this device group (rbacGroupName)')
    .option(
      '--all',
      'every device of the tenant (List Machines, skipping what --query skips: inactive, not onboarded, excluded, merged, duplicate, unsupported platform or client version)',
    )
    .option(
      '--hunting <kql>',
      'devices from an advanced hunting query (Graph, ThreatHunting.Read.All) whose result has a DeviceId column',
    )
    .option('--hunting-file <file>', 'the same, the query read from a file; - reads stdin')
    .option(
      '--incident <id>',
      'the devices of a Defender XDR incident: device evidence of its alerts (Graph, SecurityIncident.Read.All)',
    )
    .option(
      '--alert <id>',
      'the devices of one alert: its device evidence (Graph alerts_v2, SecurityAlert.Read.All)',
    )
    .option(
      '--include-inactive',
      'also target devices not seen for 7 days (they only queue a pending scan)',
    )
    .option('--scan-type <type>', 'Quick or Full', 'Quick')
    .requiredOption(
      '--comment <text>',
      'reason recorded with every MachineAction (required by the API)',
    )
    .option('--name <name>', 'a name for the campaign')
    .option(
      '--campaign-id <id>',
      're-run into this campaign: adds what is missing, doubles nothing',
    )
    .option(
      '--dry-run',
      'resolve and check the devices, print counts and the least time the budget needs; create nothing',
    )
    .option(
      '--window <HH:MM-HH:MM>',
      'dispatch only inside this daily window, local time ("22:00-05:00 Europe/Berlin" names a zone)',
    )
    .option(
      '--tenant <name>',
      'the configured tenant whose devices these are (required when there are several)',
    )
    .option(
      '--priority <class>',
      'urgent (may use the reserve), normal or background; change later with `fleetscan priority`',
      'normal',
    )
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: ScanOptions, command: Command) => {
      const { configFor, loggerFor } = await import('../context.js');
      const { scanDryRun } = await import('./scan-dry-run.js');
      const { checkSourceOptions, openScanSource } = await import('./shared/scan-source.js');
      const { withSession } = await import('./shared/session.js');
      const scanType = parseScanType(options.scanType);
      const comment = options.comment.trim();
      if (comment === '')
        throw new UsageError('--comment must not be empty (the API requires one).');
      if (options.campaignId !== undefined && !isCampaignId(options.campaignId)) {
        throw new UsageError(
          `--campaign-id must look like c-mhx1y2z3a1b2, got ${options.campaignId}`,
        );
      }
      const priority = parsePriority(options.priority ?? 'normal');
      checkSourceOptions(options);
      const window = windowOption(options.window);
      const config = configFor(command);
      const log = loggerFor(config, 'fleetscan-scan');
      if (options.dryRun === true) {
        // The same tenant checks as a real run: a dry run that passes must not fail for real.
        await withSession(config, async ({ redis, tenants }) => {
          const tenant = chooseTenant(options.tenant, tenants.names, options.campaignId);
          const source = await openScanSource(options, { config, redis, log, tenant });
          const runtime = tenant === undefined ? undefined : tenants.get(tenant);
          await scanDryRun(source, {
            config,
            redis,
            log,
            json: options.json === true,
            ...(runtime ? { budget: { limiter: runtime.limiter, id: runtime.budgetId } } : {}),
          });
        });
        return;
      }
      await withSession(config, async (session) => {
        const started = await audited(
          cliAudit(session),
          {
            action: 'campaign.create',
            target: (s: StartedCampaign) => s.campaign.id,
            detail: (s: StartedCampaign) =>
              `${String(s.accepted)} devices from ${s.campaign.source}`,
          },
          () => scanFor(session, options, { scanType, comment, priority, window, log }),
        );
        const workers = workersOf(
          await listWorkers(session.redis, config.redis.prefix, {
            intervalMs: WORKER_HEARTBEAT_MS,
          }),
          started.campaign.tenant,
        );
        report(options.json === true, started, workers);
      });
    });
}

/** The campaign of one `scan`, started and its intake recorded (audited by the caller). */
async function scanFor(
  { config, redis, store, lanes, tenants }: CommandSession,
  options: ScanOptions,
  parsed: {
    scanType: ScanType;
    comment: string;
    priority: Priority;
    window: ReturnType<typeof windowOption>;
    log: Logger;
  },
): Promise<StartedCampaign> {
  const { scanType, comment, priority, window, log } = parsed;
  const { openScanSource } = await import('./shared/scan-source.js');
  const { admitToRedis } = await import('./shared/admit-to-redis.js');
  const { startCampaign, StartCampaignError } = await import('../../control/start-campaign.js');
  const { recordIntake } = await import('../../reports/intake-record.js');
  const tenant = chooseTenant(options.tenant, tenants.names, options.campaignId);
  const source = await openScanSource(options, { config, redis, log, tenant });
  // Refuse before anything exists when Redis could not hold the campaign's records.
  const admitted = await admitToRedis(source.chunks, { config, redis });
  const started = await startCampaign(
    { store, lanes },
    {
      source: { ...source, chunks: admitted },
      scanType,
      comment,
      name: options.name,
      campaignId: options.campaignId,
      createdBy: `${userInfo().username}@${hostname()}`,
      window,
      tenant,
      priority,
    },
  ).catch((error: unknown) => {
    if (error instanceof StartCampaignError) throw new UsageError(error.message, { cause: error });
    throw error;
  });
  await recordIntake(redis, config.redis.prefix, started.campaign.id, {
    ...started.skipped,
    invalid: started.invalid,
    duplicate: started.duplicate,
  });
  return started;
}

function report(json: boolean, started: StartedCampaign, workers: readonly LiveWorker[]) {
  const { campaign, accepted } = started;
  const summary = {
    campaignId: campaign.id,
    name: campaign.name,
    scanType: campaign.scanType,
    window: campaign.window,
    tenant: campaign.tenant,
    priority: campaign.priority,
    accepted,
    invalid: started.invalid,
    duplicate: started.duplicate,
    skipped: started.skipped,
    invalidLines: started.invalidLines.slice(0, 20),
  };
  if (json) {
    printJson(summary);
    return;
  }
  const skipped = Object.entries(summary.skipped).map(([reason, n]) => `${count(n)} ${reason}`);
  const lines = [
    `Campaign ${campaign.id} "${campaign.name}" (${campaign.scanType} scan, ${campaign.state}, ` +
      `tenant ${campaign.tenant}, ${campaign.priority})`,
    `  ${count(accepted)} devices queued, ${count(summary.invalid)} invalid, ${count(summary.duplicate)} duplicate` +
      (skipped.length > 0 ? `, skipped: ${skipped.join(', ')}` : ''),
    `  ${count(campaign.total)} devices in the campaign in all`,
    ...(campaign.window
      ? [
          `  Dispatched only ${campaign.window.start}-${campaign.window.end} ${campaign.window.tz} (devices wait outside it)`,
        ]
      : []),
    ...summary.invalidLines.map(
      (e) => `  line ${e.line}: ${JSON.stringify(e.value)} (${e.reason})`,
    ),
    ...(summary.invalid > summary.invalidLines.length
      ? [`  … and ${count(summary.invalid - summary.invalidLines.length)} more invalid lines`]
      : []),
    '',
    ...(workers.length > 0
      ? [
          `${count(workers.length)} live worker${workers.length === 1 ? '' : 's'} serve${workers.length === 1 ? 's' : ''} tenant ${campaign.tenant}: the devices are called for now.`,
        ]
      : [
          'Start workers (any number, on any host sharing this Redis; they share one API budget):',
          '  fleetscan worker --concurrency 8',
        ]),
    'Watch progress:',
    `  fleetscan status ${campaign.id} --wait`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The tenant a new campaign is for: the one given, or the only one configured. A re-run
 * (`--campaign-id`) keeps its campaign's tenant, so none need be given then.
 */
function chooseTenant(
  given: string | undefined,
  names: readonly string[],
  campaignId: string | undefined,
): string | undefined {
  if (given !== undefined) {
    if (!names.includes(given)) {
      throw new UsageError(`--tenant ${given} is not configured; tenants: ${names.join(', ')}`);
    }
    return given;
  }
  if (names.length === 1 || campaignId !== undefined)
    return names.length === 1 ? names[0] : undefined;
  throw new UsageError(
    `Several tenants are configured; name one with --tenant (${names.join(', ')})`,
  );
}

function parsePriority(text: string): Priority {
  const found = PRIORITIES.find((p) => p === text.trim().toLowerCase());
  if (!found)
    throw new UsageError(`--priority must be one of ${PRIORITIES.join(', ')}, got ${text}`);
  return found;
}

function parseScanType(text: string): ScanType {
  const found = SCAN_TYPES.find((t) => t.toLowerCase() === text.trim().toLowerCase());
  if (!found) throw new UsageError(`--scan-type must be Quick or Full, got ${text}`);
  return found;
}

function windowOption(text: string | undefined) {
  if (text === undefined) return null;
  try {
    return parseWindowFlag(text, Intl.DateTimeFormat().resolvedOptions().timeZone);
  } catch (error) {
    if (error instanceof WindowError) throw new UsageError(`--window: ${error.message}`);
    throw error;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
