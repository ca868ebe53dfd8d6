import { basename } from 'node:path';
import type { Config } from '../../../config/schema.js';
import {
  describeTargets,
  fileScanSource,
  targetScanSource,
} from '../../../control/scan-sources.js';
import type { ScanSource } from '../../../control/start-campaign.js';
import { readDeviceFile } from '../../../producer/sources/read-device-file.js';
import { resolveTargets } from '../../../producer/sources/resolve-targets.js';
import type { Logger } from '../../../shared/logger.js';
import type { Redis } from '../../../shared/redis.js';
import { UsageError } from '../../errors.js';
import { defenderFromConfig } from './defender-from-config.js';

export type { ScanSource } from '../../../control/start-campaign.js';

export interface SourceOptions {
  devices?: string | undefined;
  column?: string | undefined;
  strict?: boolean | undefined;
  query?: string | undefined;
  tag?: string[] | undefined;
  group?: string | undefined;
  /** Every device of the tenant: List Machines without a filter, the skip rules of a query. */
  all?: boolean | undefined;
  includeInactive?: boolean | undefined;
}

/** Checks that exactly one kind of source was named, before anything connects anywhere. */
export function checkSourceOptions(options: SourceOptions): 'file' | 'targets' {
  const filtered =
    options.query !== undefined || (options.tag ?? []).length > 0 || options.group !== undefined;
  const all = options.all === true;
  const kinds = [options.devices !== undefined, filtered, all].filter(Boolean).length;
  if (kinds > 1) {
    throw new UsageError(
      'Give only one of --devices, --query/--tag/--group or --all (--all already means every device).',
    );
  }
  if (kinds === 0) {
    throw new UsageError(
      'Name the devices: --devices FILE (or - for stdin), --query, --tag, --group, or --all for every device.',
    );
  }
  const targeted = filtered || all;
  if (targeted && (options.column !== undefined || options.strict === true)) {
    throw new UsageError('--column and --strict apply to --devices only.');
  }
  if (!targeted && options.includeInactive === true) {
    throw new UsageError('--include-inactive applies to --query/--tag/--group/--all only.');
  }
  return targeted ? 'targets' : 'file';
}

/**
 * Opens the source: the device file is opened (and with --strict validated whole) here, so an
 * unreadable or refused file fails before any campaign exists; a query is checked here and runs
 * through List Machines (with the shared budget) while the chunks are read.
 */
export async function openScanSource(
  options: SourceOptions,
  deps: { config: Config; redis: Redis; log: Logger; tenant?: string | undefined },
): Promise<ScanSource> {
  if (checkSourceOptions(options) === 'file') {
    const file = options.devices ?? '-';
    const source = await readDeviceFile(file, { column: options.column, strict: options.strict });
    return fileScanSource(source, `file:${file === '-' ? 'stdin' : basename(file)}`);
  }
  const { client } = defenderFromConfig(deps.config, deps.redis, deps.log, deps.tenant);
  const targets = resolveTargets(client, {
    query: options.query,
    tags: options.tag,
    group: options.group,
    includeInactive: options.includeInactive,
  });
  return targetScanSource(
    targets,
    describeTargets({
      query: options.query,
      tags: options.tag,
      group: options.group,
      all: options.all,
    }),
    () => {
      client.close();
    },
  );
}
