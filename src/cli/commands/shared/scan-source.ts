import { basename } from 'node:path';
import type { Config } from '../../../config/schema.js';
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
  includeInactive?: boolean | undefined;
}

/** Checks that exactly one kind of source was named, before anything connects anywhere. */
export function checkSourceOptions(options: SourceOptions): 'file' | 'targets' {
  const targeted =
    options.query !== undefined || (options.tag ?? []).length > 0 || options.group !== undefined;
  if (options.devices !== undefined && targeted) {
    throw new UsageError('Give either --devices or --query/--tag/--group, not both.');
  }
  if (options.devices === undefined && !targeted) {
    throw new UsageError(
      'Name the devices: --devices FILE (or - for stdin), --query, --tag or --group.',
    );
  }
  if (targeted && (options.column !== undefined || options.strict === true)) {
    throw new UsageError('--column and --strict apply to --devices only.');
  }
  if (!targeted && options.includeInactive === true) {
    throw new UsageError('--include-inactive applies to --query/--tag/--group only.');
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
  deps: { config: Config; redis: Redis; log: Logger },
): Promise<ScanSource> {
  if (checkSourceOptions(options) === 'file') {
    const file = options.devices ?? '-';
    const source = await readDeviceFile(file, { column: options.column, strict: options.strict });
    return {
      description: `file:${file === '-' ? 'stdin' : basename(file)}`,
      chunks: source.chunks,
      valid: () => source.report.valid,
      invalid: () => ({ count: source.report.invalidCount, lines: source.report.invalid }),
      skipped: () => ({}),
      takeHostnames: () => source.takeHostnames(),
    };
  }
  const { client } = defenderFromConfig(deps.config, deps.redis, deps.log);
  const targets = resolveTargets(client, {
    query: options.query,
    tags: options.tag,
    group: options.group,
    includeInactive: options.includeInactive,
  });
  const described = [
    options.query === undefined ? '' : `query:${options.query}`,
    (options.tag ?? []).length === 0 ? '' : `tag:${(options.tag ?? []).join(',')}`,
    options.group === undefined ? '' : `group:${options.group}`,
  ];
  return {
    description: described.filter(Boolean).join(' '),
    chunks: closing(targets.chunks, () => {
      client.close();
    }),
    valid: () => targets.report.selected,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () =>
      Object.fromEntries(Object.entries(targets.report.skipped).filter(([, n]) => n > 0)),
    takeHostnames: () => targets.takeHostnames(),
  };
}

async function* closing<T>(items: AsyncIterable<T>, done: () => void): AsyncIterable<T> {
  try {
    yield* items;
  } finally {
    done();
  }
}
