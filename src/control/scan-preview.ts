import { estimateCompletion } from '../campaigns/eta.js';
import type { InvalidEntry } from '../producer/sources/errors.js';
import type { ScanSource } from './start-campaign.js';

/** One window of a scan budget as `limiter.usage('scan')` reports it. */
export interface PreviewWindow {
  cap: number;
  windowMs: number;
  used: number;
}

/** What a campaign from a source would hold, and the least time its budget needs for it. */
export interface ScanPreview {
  source: string;
  /** Distinct devices a campaign would queue. */
  devices: number;
  invalid: number;
  duplicate: number;
  skipped: Record<string, number>;
  /** The first 20 invalid lines, with their numbers. */
  invalidLines: InvalidEntry[];
  /** The least time the scan budget needs for them from now (each device one call). */
  floorMs: number;
  budget: { windows: PreviewWindow[] };
}

/**
 * Reads a whole source as a campaign would (targets resolved, lines checked) and says what the
 * campaign would hold and how long the budget needs at least: `scan --dry-run` and the
 * dashboard's preview. Creates nothing. Distinct ids are counted in memory (about 100 bytes each).
 */
export async function previewScan(
  source: ScanSource,
  budget: {
    windows: readonly PreviewWindow[];
    /** Real slot times of the budget's windows, where the caller can read them. */
    slotExits?: readonly (readonly number[])[] | undefined;
  },
): Promise<ScanPreview> {
  const ids = new Set<string>();
  for await (const chunk of source.chunks) for (const id of chunk) ids.add(id);
  const floorMs = estimateCompletion({
    remaining: ids.size,
    windows: budget.windows,
    usedNow: budget.windows.map((w) => w.used),
    slotExits: budget.slotExits,
  });
  const invalid = source.invalid();
  return {
    source: source.description,
    devices: ids.size,
    invalid: invalid.count,
    duplicate: Math.max(0, source.valid() - ids.size),
    skipped: source.skipped(),
    invalidLines: invalid.lines.slice(0, 20),
    floorMs,
    budget: { windows: budget.windows.map((w) => ({ ...w })) },
  };
}
