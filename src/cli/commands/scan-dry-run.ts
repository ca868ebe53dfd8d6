import { previewScan, type ScanPreview } from '../../control/scan-preview.js';
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

/** `scan --dry-run --json`: the preview, marked as a dry run. */
export interface DryRunReport extends ScanPreview {
  dryRun: true;
}

/**
 * `scan --dry-run`: the preview of the source (`previewScan`) against the tenant's budget, printed.
 * Creates nothing: no campaign, no job.
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
  const budget = deps.budget
    ? await readBudget(deps.budget.limiter, deps.budget.id)
    : await readBudget(
        limiterFromConfig(deps.config, deps.redis, deps.log),
        budgetIdFor(deps.config),
      );
  const preview = await previewScan(source, {
    windows: budget.windows.map(({ cap, windowMs, used }) => ({ cap, windowMs, used })),
    // The slot times are read from the configuration's own budget: only where that is the one.
    slotExits:
      budget.id === budgetIdFor(deps.config)
        ? await readSlotExits(deps.redis, deps.config)
        : undefined,
  });
  const report: DryRunReport = { dryRun: true, ...preview, budget: { windows: budget.windows } };
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
