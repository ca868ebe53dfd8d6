import type { Config } from '../../../config/schema.js';
import { openDeviceSource } from '../../../control/scan-sources.js';
import type { EvidenceTarget } from '../../../control/evidence-sources.js';
import type { ScanSource } from '../../../control/start-campaign.js';
import type { DefenderClient } from '../../../defender/client.js';
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
  /** Devices from evidence: an advanced hunting query (or a file holding one), an incident, an alert. */
  hunting?: string | undefined;
  huntingFile?: string | undefined;
  incident?: string | undefined;
  alert?: string | undefined;
}

/** The evidence option given, as a target (unread: `--hunting-file` is read when opened). */
function evidenceOption(options: SourceOptions): string | undefined {
  const given = [
    options.hunting !== undefined ? '--hunting' : '',
    options.huntingFile !== undefined ? '--hunting-file' : '',
    options.incident !== undefined ? '--incident' : '',
    options.alert !== undefined ? '--alert' : '',
  ].filter(Boolean);
  if (given.length > 1) throw new UsageError(`Give only one of ${given.join(', ')}.`);
  return given[0];
}

/** Checks that exactly one kind of source was named, before anything connects anywhere. */
export function checkSourceOptions(options: SourceOptions): 'file' | 'targets' | 'evidence' {
  const filtered =
    options.query !== undefined || (options.tag ?? []).length > 0 || options.group !== undefined;
  const all = options.all === true;
  const evidence = evidenceOption(options);
  const kinds = [options.devices !== undefined, filtered, all, evidence !== undefined].filter(
    Boolean,
  ).length;
  if (kinds > 1) {
    throw new UsageError(
      'Give only one of --devices, --query/--tag/--group, --all, or one of --hunting/--hunting-file/--incident/--alert (--all already means every device).',
    );
  }
  if (kinds === 0) {
    throw new UsageError(
      'Name the devices: --devices FILE (or - for stdin), --query, --tag, --group, --all for every device, or from evidence --hunting, --hunting-file, --incident or --alert.',
    );
  }
  if (evidence !== undefined) {
    if (options.column !== undefined || options.strict === true || options.includeInactive === true)
      throw new UsageError(
        `--column, --strict and --include-inactive do not apply to ${evidence}.`,
      );
    return 'evidence';
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
  const kind = checkSourceOptions(options);
  if (kind === 'evidence') return openEvidenceOption(options, deps);
  let client: DefenderClient | undefined;
  return openDeviceSource(
    {
      ...(kind === 'file' ? { devices: options.devices ?? '-' } : {}),
      column: options.column,
      strict: options.strict,
      query: options.query,
      tags: options.tag,
      group: options.group,
      all: options.all,
      includeInactive: options.includeInactive,
    },
    () => (client = defenderFromConfig(deps.config, deps.redis, deps.log, deps.tenant).client),
    () => {
      client?.close();
    },
  );
}

/**
 * `--hunting`, `--hunting-file`, `--incident`, `--alert`: read through Graph (the tenant's
 * credentials, the hunting budget) before anything is created; a refusal is a usage error.
 */
async function openEvidenceOption(
  options: SourceOptions,
  deps: { config: Config; redis: Redis; log: Logger; tenant?: string | undefined },
): Promise<ScanSource> {
  const { checkEvidenceTarget, EvidenceError, openEvidenceSource } =
    await import('../../../control/evidence-sources.js');
  const { graphClientFromConfig } = await import('../../../runtime/hunting-from-config.js');
  const { tenantConfigOf } = await import('../../../tenants/tenant-registry.js');
  let target: EvidenceTarget;
  try {
    target = checkEvidenceTarget(await evidenceTarget(options), evidenceOption(options) ?? '');
  } catch (error) {
    if (error instanceof EvidenceError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  const config = deps.tenant === undefined ? deps.config : tenantConfigOf(deps.config, deps.tenant);
  const graph = graphClientFromConfig(config, deps.redis, deps.log);
  try {
    return await openEvidenceSource({ graph }, target);
  } catch (error) {
    if (error instanceof EvidenceError) throw new UsageError(error.message, { cause: error });
    throw error;
  } finally {
    graph.close();
  }
}

async function evidenceTarget(options: SourceOptions): Promise<EvidenceTarget> {
  if (options.incident !== undefined) return { kind: 'incident', id: options.incident.trim() };
  if (options.alert !== undefined) return { kind: 'alert', id: options.alert.trim() };
  if (options.hunting !== undefined) return { kind: 'hunting', query: options.hunting };
  const file = options.huntingFile ?? '-';
  try {
    const { readFileSync } = await import('node:fs');
    return { kind: 'hunting', query: readFileSync(file === '-' ? 0 : file, 'utf8').trim() };
  } catch (error) {
    throw new UsageError(`--hunting-file ${file}: ${(error as Error).message}`, { cause: error });
  }
}
