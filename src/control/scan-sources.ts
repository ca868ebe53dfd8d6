import type { DeviceFileSource } from '../producer/sources/read-device-file.js';
import type { TargetsSource } from '../producer/sources/resolve-targets.js';
import type { ScanSource } from './start-campaign.js';

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
