import { basename } from 'node:path';
import { readDeviceFile, type DeviceFileSource } from '../producer/sources/read-device-file.js';
import {
  resolveTargets,
  type MachineLister,
  type TargetsSource,
} from '../producer/sources/resolve-targets.js';
import type { ScanSource } from './start-campaign.js';

/**
 * The devices a campaign names, as the CLI, the API and schedules give them: a device file, or
 * List Machines by query, tags, group or every device.
 */
export interface DeviceTargets {
  /** A device file (`-` is stdin); when given, the List Machines fields are not read. */
  devices?: string | null | undefined;
  column?: string | null | undefined;
  /** Refuse the whole file when one line is not a device (read whole before anything starts). */
  strict?: boolean | undefined;
  query?: string | null | undefined;
  tags?: readonly string[] | undefined;
  group?: string | null | undefined;
  all?: boolean | undefined;
  includeInactive?: boolean | undefined;
}

/**
 * Opens a campaign's devices, the one way every entry point does it: the device file is opened
 * here (so an unreadable or refused file fails before any campaign exists); List Machines is
 * asked through `lister` only for targets, and `onEnd` runs when its chunks are read to the end.
 */
export async function openDeviceSource(
  targets: DeviceTargets,
  lister: () => MachineLister,
  onEnd?: () => void,
): Promise<ScanSource> {
  if (targets.devices !== undefined && targets.devices !== null) {
    const file = targets.devices;
    const source = await readDeviceFile(file, {
      column: targets.column ?? undefined,
      strict: targets.strict,
    });
    return fileScanSource(source, `file:${file === '-' ? 'stdin' : basename(file)}`);
  }
  return listedDeviceSource(lister(), targets, onEnd);
}

/**
 * Devices chosen through List Machines with the skip rules of `scan --query`. A bad query or
 * group throws `TargetQueryError` here, at once; the listing starts when the chunks are read.
 */
export function listedDeviceSource(
  lister: MachineLister,
  targets: DeviceTargets,
  onEnd?: () => void,
): ScanSource {
  const resolved = resolveTargets(lister, {
    query: targets.query ?? undefined,
    tags: targets.tags,
    group: targets.group ?? undefined,
    includeInactive: targets.includeInactive,
  });
  return targetScanSource(resolved, describeTargets(targets), onEnd);
}

/** A device file (CSV, text, JSON, NDJSON) as a campaign's source. */
export function fileScanSource(source: DeviceFileSource, description: string): ScanSource {
  return {
    description,
    chunks: source.chunks,
    valid: () => source.report.valid,
    invalid: () => ({ count: source.report.invalidCount, lines: source.report.invalid }),
    skipped: () => ({}),
    takeHostnames: () => source.takeHostnames(),
  };
}

/** Devices chosen through List Machines (`--query`, `--tag`, `--group`, `--all`) as a campaign's source. */
export function targetScanSource(
  targets: TargetsSource,
  description: string,
  onEnd?: () => void,
): ScanSource {
  return {
    description,
    chunks: onEnd ? closing(targets.chunks, onEnd) : targets.chunks,
    valid: () => targets.report.selected,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () =>
      Object.fromEntries(Object.entries(targets.report.skipped).filter(([, n]) => n > 0)),
    takeHostnames: () => targets.takeHostnames(),
  };
}

/** A list of ids already checked (the API's JSON array or NDJSON body). */
export function listScanSource(
  ids: readonly string[],
  description: string,
  chunk = 1000,
): ScanSource {
  return {
    description,
    chunks: (async function* () {
      await Promise.resolve();
      for (let i = 0; i < ids.length; i += chunk) yield ids.slice(i, i + chunk);
    })(),
    valid: () => ids.length,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () => ({}),
    takeHostnames: () => new Map<string, string>(),
  };
}

/** `query:… tag:a,b group:…` or `all`, as a campaign records where its devices came from. */
export function describeTargets(targets: {
  query?: string | null | undefined;
  tags?: readonly string[] | undefined;
  group?: string | null | undefined;
  all?: boolean | undefined;
}): string {
  if (targets.all === true) return 'all';
  const tags = targets.tags ?? [];
  return [
    targets.query ? `query:${targets.query}` : '',
    tags.length > 0 ? `tag:${tags.join(',')}` : '',
    targets.group ? `group:${targets.group}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

async function* closing<T>(items: AsyncIterable<T>, done: () => void): AsyncIterable<T> {
  try {
    yield* items;
  } finally {
    done();
  }
}
