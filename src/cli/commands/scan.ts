import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { isCampaignId, newCampaignId } from '../../campaigns/campaign-id.js';
import type { Campaign } from '../../campaigns/campaign.js';
import { SCAN_TYPES, type ScanType } from '../../defender/machine-action.js';
import { enqueueDevices } from '../../producer/enqueue-devices.js';
import { configFor, loggerFor, printJson } from '../context.js';
import { UsageError } from '../errors.js';
import { scanDryRun } from './scan-dry-run.js';
import { count } from './shared/output.js';
import {
  checkSourceOptions,
  openScanSource,
  type ScanSource,
  type SourceOptions,
} from './shared/scan-source.js';
import { withSession } from './shared/session.js';

interface ScanOptions extends SourceOptions {
  scanType: string;
  comment: string;
  name?: string;
  campaignId?: string;
  dryRun?: boolean;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan scan --devices devices.csv --comment "Quarterly sweep" --name q4-sweep
  fleetscan scan --tag Servers --tag Finance --scan-type Full --comment "After incident 4711" --json
  fleetscan scan --devices devices.csv --comment "Quarterly sweep" --dry-run   # counts and time, creates nothing
  cat ids.txt | fleetscan scan --devices - --comment "Ad hoc"
  # same command again after a crash or Ctrl-C: nothing is doubled, nothing lost
  fleetscan scan --devices devices.csv --comment "Quarterly sweep" --campaign-id c-mhx1y2z3a1b2`;

/** `fleetscan scan`: creates a campaign and enqueues its devices for the workers. */
export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description(
      'Create a scan campaign from a device list or a Defender query and queue its devices',
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
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: ScanOptions, command: Command) => {
      const scanType = parseScanType(options.scanType);
      const comment = options.comment.trim();
      if (comment === '')
        throw new UsageError('--comment must not be empty (the API requires one).');
      if (options.campaignId !== undefined && !isCampaignId(options.campaignId)) {
        throw new UsageError(
          `--campaign-id must look like c-mhx1y2z3a1b2, got ${options.campaignId}`,
        );
      }
      checkSourceOptions(options);
      const config = configFor(command);
      const log = loggerFor(config, 'fleetscan-scan');
      if (options.dryRun === true) {
        await withSession(config, async ({ redis }) => {
          const source = await openScanSource(options, { config, redis, log });
          await scanDryRun(source, { config, redis, log, json: options.json === true });
        });
        return;
      }
      await withSession(config, async ({ redis, store, queue }) => {
        const existing = options.campaignId ? await store.getCampaign(options.campaignId) : null;
        if (existing?.state === 'cancelled') {
          throw new UsageError(`Campaign ${existing.id} was cancelled; start a new one.`);
        }
        const source = await openScanSource(options, { config, redis, log });
        // Read the first chunk before the campaign exists: a source that fails at once (a
        // malformed file, refused credentials) leaves nothing behind.
        const { first, rest } = await peek(source.chunks);
        if (first.done === true && !existing) {
          const { count: invalid } = source.invalid();
          throw new UsageError(
            `No devices to scan in ${source.description}` +
              (invalid > 0 ? ` (${String(invalid)} invalid lines)` : '') +
              '; no campaign was created.',
          );
        }
        const id = existing?.id ?? options.campaignId ?? newCampaignId();
        if (!existing) {
          await store.createCampaign({
            id,
            name: options.name ?? `${scanType} scan ${new Date().toISOString().slice(0, 16)}Z`,
            scanType,
            comment: `${comment} [fleetscan:${id}]`,
            createdAt: Date.now(),
            createdBy: `${userInfo().username}@${hostname()}`,
            source: source.description,
          });
        }
        const accepted = await enqueueOrExplain(id, () =>
          enqueueDevices({
            queue: queue(),
            store,
            campaign: id,
            ids: keepingHostnames(prepend(first, rest), () =>
              store.setHostnames(id, source.takeHostnames()),
            ),
          }),
        );
        const campaign = (await store.getCampaign(id)) ?? existing;
        report(options.json === true, campaign, source, accepted);
      });
    });
}

function report(json: boolean, campaign: Campaign | null, source: ScanSource, accepted: number) {
  if (!campaign) throw new Error('The campaign vanished while devices were added');
  const invalid = source.invalid();
  const summary = {
    campaignId: campaign.id,
    name: campaign.name,
    scanType: campaign.scanType,
    accepted,
    invalid: invalid.count,
    duplicate: Math.max(0, source.valid() - accepted),
    skipped: source.skipped(),
    invalidLines: invalid.lines.slice(0, 20),
  };
  if (json) {
    printJson(summary);
    return;
  }
  const skipped = Object.entries(summary.skipped).map(([reason, n]) => `${count(n)} ${reason}`);
  const lines = [
    `Campaign ${campaign.id} "${campaign.name}" (${campaign.scanType} scan, ${campaign.state})`,
    `  ${count(accepted)} devices queued, ${count(summary.invalid)} invalid, ${count(summary.duplicate)} duplicate` +
      (skipped.length > 0 ? `, skipped: ${skipped.join(', ')}` : ''),
    `  ${count(campaign.total)} devices in the campaign in all`,
    ...summary.invalidLines.map(
      (e) => `  line ${e.line}: ${JSON.stringify(e.value)} (${e.reason})`,
    ),
    ...(invalid.count > summary.invalidLines.length
      ? [`  … and ${count(invalid.count - summary.invalidLines.length)} more invalid lines`]
      : []),
    '',
    'Start workers (any number, on any host sharing this Redis; they share one API budget):',
    '  fleetscan worker --concurrency 8',
    'Watch progress:',
    `  fleetscan status ${campaign.id} --wait`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs the enqueue; a failure half-way says how to finish the campaign without doubling. */
async function enqueueOrExplain(
  id: string,
  enqueue: () => Promise<{ accepted: number }>,
): Promise<number> {
  try {
    return (await enqueue()).accepted;
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}\nCampaign ${id} is incomplete: fix the cause and run the same ` +
        `command with --campaign-id ${id} to add the rest (nothing is doubled).`,
      { cause: error },
    );
  }
}

function parseScanType(text: string): ScanType {
  const found = SCAN_TYPES.find((t) => t.toLowerCase() === text.trim().toLowerCase());
  if (!found) throw new UsageError(`--scan-type must be Quick or Full, got ${text}`);
  return found;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function peek<T>(items: AsyncIterable<T>) {
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { first, rest: iterator };
}

/** Stores the host names of each chunk before handing the chunk on (bounded memory). */
async function* keepingHostnames<T>(
  chunks: AsyncIterable<T>,
  save: () => Promise<void>,
): AsyncIterable<T> {
  for await (const chunk of chunks) {
    await save();
    yield chunk;
  }
}

async function* prepend<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterable<T> {
  if (first.done === true) return;
  yield first.value;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
}
