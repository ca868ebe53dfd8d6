import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { EXPORT_FORMATS, exportDevices, isExportFormat } from '../../campaigns/export-devices.js';
import type { DeviceRecord } from '../../campaigns/campaign.js';
import { UsageError } from '../errors.js';
import { count } from './shared/output.js';
import { isArchived } from '../../retention/campaign-reader.js';
import { writeWhole } from './shared/write-whole.js';

interface ExportOptions {
  format: string;
  out?: string;
}

const EXAMPLE = `
Examples:
  fleetscan export c-mhx1y2z3a1b2 --out results.csv
  fleetscan export c-mhx1y2z3a1b2 --format ndjson | jq -c 'select(.state == "failed")'

Columns: machineId,state,machineActionId,actionStatus,reason,attempts,requestedAt,joinedExisting,
actionUpdatedAt,cancelResult,scanResult,scanCompletedAt,scanType (times in ISO-8601; the last
five come from the action tracker, \`cancel --actions\` and \`verify\`). CSV cells that a spreadsheet would run as a formula get a leading '.`;

/** `fleetscan export ID`: one row per device, to a file (written whole or not at all) or stdout. */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .argument('<id>', 'campaign id')
    .description(
      'Export one row per device of a campaign: state, MachineAction id and status, reason',
    )
    .option('--format <format>', EXPORT_FORMATS.join(', '), 'csv')
    .option(
      '--out <file>',
      'write here (via a temporary file, renamed when complete) instead of stdout',
    )
    .addHelpText('after', EXAMPLE)
    .action(async (id: string, options: ExportOptions, command: Command) => {
      const format = options.format.toLowerCase();
      if (!isExportFormat(format)) {
        throw new UsageError(
          `--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${options.format}`,
        );
      }
      const { configFor } = await import('../context.js');
      const { requireAnyCampaign, retentionOf } = await import('./shared/retention-session.js');
      const { withReadSession } = await import('./shared/session.js');
      const { fileModesOf } = await import('../../runtime/retention-from-config.js');
      const config = configFor(command);
      await withReadSession(config, async (session) => {
        // An archived campaign is read from its archive: the same rows, byte for byte.
        const retention = retentionOf(session);
        const campaign = await requireAnyCampaign(retention, id);
        let rows = 0;
        const counted = async function* (devices: AsyncIterable<DeviceRecord>) {
          for await (const device of devices) {
            rows += 1;
            yield device;
          }
        };
        const text = Readable.from(
          exportDevices(counted(retention.reader.iterateDevices(id)), format, {
            tenant: campaign.tenant,
            priority: campaign.priority,
          }),
        );
        if (options.out === undefined) {
          // stdout stays open: the process, not the export, owns it. A reader that stops early
          // (`| head`) closes the pipe: that is its right, not a failure.
          await pipeline(text, process.stdout, { end: false }).catch((error: unknown) => {
            if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
          });
          return;
        }
        await writeWhole(options.out, text, fileModesOf(config));
        process.stdout.write(
          `Wrote ${count(rows)} devices of ${id} to ${options.out} (${format}${isArchived(campaign) ? ', from the archive' : ''})\n`,
        );
      });
    });
}
