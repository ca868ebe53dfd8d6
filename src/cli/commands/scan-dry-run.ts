import { estimateCompletion } from '../../campaigns/eta.js';
import { formatDuration } from '../../config/duration.js';
import type { Config } from '../../config/schema.js';
import { budgetIdFor, type ScanLimiter } from '../../limiter/scan-limiter.js';
import { readSlotExits } from '../../limiter/slot-exits.js';
import type { Logger } from '../../shared/logger.js';
import type { Redis } from '../../shared/redis.js';
import { printJson } from '../context.js';
import { readBudget } from './shared/campaign-status.js';
import { limiterFromConfig } from '../../runtime/limiter-from-config.js';
import { count } from './shared/output.js';
import type { ScanSource } from './shared/scan-source.js';

export interface DryRunReport {
  dryRun: true;
  source: string;
  /** Distinct devices a campaign would queue. */
  devices: number;
  invalid: number;
  duplicate: number;
  skipped: Record<string, number>;
  invalidLines: { line: number; value: string; reason: string }[];
  /** The least time the scan budget needs for them from now (each device one call). */
  floorMs: number;
  budget: { windows: { cap: number; windowMs: number; used: number }[] };
}

/**
 * `scan --dry-run`: reads the whole source as `scan` would (targets resolved, lines checked),
 * then says what a campaign would hold and how long the budget needs at least. Creates nothing:
 * no campaign, no job. Distinct ids are counted in memory (about 100 bytes each).
 */
export async function scanDryRun(
  source: ScanSource,
  deps: {
    config: Config;
    redis: Redis;
    log: Logger;
    json: boolean;
    /** The campaign's tenant's budget; default: the one of the configuration's own credentials. */
    budget?: { limiter: Pick<ScanLimiter, 'usage'>; id: string };
  },
): Promise<DryRunReport> {
  const ids = new Set<string>();
  for await (const chunk of source.chunks) for (const id of chunk) ids.add(id);
  const budget = deps.budget
    ? await readBudget(deps.budget.limiter, deps.budget.id)
    : await readBudget(
        limiterFromConfig(deps.config, deps.redis, deps.log),
        budgetIdFor(deps.config),
      );
  const floorMs = estimateCompletion({
    remaining: ids.size,
    windows: budget.windows,
    usedNow: budget.windows.map((w) => w.used),
    // The slot times are read from the configuration's own budget: only where that is the one.
    slotExits:
      budget.id === budgetIdFor(deps.config)
        ? await readSlotExits(deps.redis, deps.config)
        : undefined,
  });
  const invalid = source.invalid();
  const report: DryRunReport = {
    dryRun: true,
    source: source.description,
    devices: ids.size,
    invalid: invalid.count,
    duplicate: Math.max(0, source.valid() - ids.size),
    skipped: source.skipped(),
    invalidLines: invalid.lines.slice(0, 20),
    floorMs,
    budget: { windows: budget.windows },
  };
  if (deps.json) printJson(report);
  else process.stdout.write(`${renderDryRun(report)}\n`);
  return report;
}

export function renderDryRun(r: DryRunReport): string {
  const skipped = Object.entries(r.skipped).map(([reason, n]) => `${count(n)} ${reason}`);
  const windows = r.budget.windows
    .map((w) => `${count(w.used)}/${count(w.cap)} per ${formatDuration(w.windowMs)}`)
    .join(', ');
  return [
    `Dry run (nothing created): ${count(r.devices)} devices would be queued from ${r.source}`,
    `  ${count(r.invalid)} invalid, ${count(r.duplicate)} duplicate` +
      (skipped.length > 0 ? `; skipped: ${skipped.join(', ')}` : ''),
    ...r.invalidLines.map((e) => `  line ${e.line}: ${JSON.stringify(e.value)} (${e.reason})`),
    ...(r.invalid > r.invalidLines.length
      ? [`  … and ${count(r.invalid - r.invalidLines.length)} more invalid lines`]
      : []),
    (r.floorMs > 0
      ? `  the scan budget needs at least ${formatDuration(r.floorMs)} for them`
      : '  the scan budget has room for all of them now') +
      ` (one call each; busy devices take longer); budget now ${windows}`,
  ].join('\n');
}
