import type { Command } from 'commander';
import { formatDuration } from '../../config/duration.js';
import { describeBlocked } from '../../lanes/blocked-tenants.js';
import { readTenantReports, tenantHold, type TenantReport } from '../../lanes/tenant-reports.js';
import type { AdaptiveBudgetView } from '../../limiter/scan-limiter.js';
import { count, formatTable, printJson } from './shared/output.js';
import { redisTimeMs } from '../../shared/redis-time.js';

const EXAMPLE = `
Examples:
  fleetscan tenants
  fleetscan tenants --json | jq '.tenants[] | {name, held: .heldForMs}'
  fleetscan tenants --json | jq '.tenants[] | select(.blocked) | {name, blocked}'
  fleetscan tenants --json | jq '.tenants[] | {name, adaptive: .adaptive.state}'`;

/** `fleetscan tenants`: every configured tenant with its budget use, reserve and hold state. */
export function registerTenantsCommand(program: Command): void {
  program
    .command('tenants')
    .description(
      'List the configured tenants with budget use, reserve, hold or block state and waiting work',
    )
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: { json?: boolean }, command: Command) => {
      const { configFor } = await import('../context.js');
      const { withReadSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withReadSession(config, async ({ redis, tenants, lanes }) => {
        const reports = await readTenantReports({ tenants, lanes }, await redisTimeMs(redis));
        if (options.json === true) {
          printJson({ tenants: reports });
          return;
        }
        const blocked = reports.flatMap((r) =>
          r.blocked ? [`${describeBlocked(r.name, r.blocked)}\n`] : [],
        );
        process.stdout.write(`${render(reports)}\n${blocked.join('')}`);
      });
    });
}

function render(reports: readonly TenantReport[]): string {
  return formatTable(
    [
      'TENANT',
      'CLOUD',
      'BUDGET USED (RESERVE)',
      'HOLD',
      'ADAPTIVE',
      'WAITING U/N/B',
      'DUE',
      'ACTIVE',
    ],
    reports.map((r) => [
      r.name,
      r.cloud,
      r.windows
        .map(
          (w) =>
            `${count(w.used)}/${count(w.cap)} per ${formatDuration(w.windowMs)} (${count(w.reserve)})`,
        )
        .join(', '),
      holdText(r),
      describeAdaptive(r.adaptive),
      `${r.campaignsWaiting.urgent}/${r.campaignsWaiting.normal}/${r.campaignsWaiting.background}`,
      count(r.devicesDue),
      count(r.devicesInProgress),
    ]),
  );
}

function holdText(r: TenantReport): string {
  const hold = tenantHold(r);
  if (hold === 'blocked') return `BLOCKED (${r.blocked?.reason ?? ''})`;
  return hold === 'held' ? `held ${formatDuration(r.heldForMs)} (429)` : hold;
}

/** `lowered 60/100 per 1m since 2026-12-01T10:03:04.000Z`, `configured caps` or `off`. */
export function describeAdaptive(view: AdaptiveBudgetView): string {
  if (view.state !== 'lowered') return view.state === 'off' ? 'off' : 'configured caps';
  const caps = view.windows
    .filter((w) => w.effectiveCap < w.configuredCap)
    .map(
      (w) => `${count(w.effectiveCap)}/${count(w.configuredCap)} per ${formatDuration(w.windowMs)}`,
    )
    .join(', ');
  const since = view.lastDecrease
    ? ` (last 429 ${new Date(view.lastDecrease.at).toISOString()})`
    : '';
  return `lowered ${caps}${since}`;
}
