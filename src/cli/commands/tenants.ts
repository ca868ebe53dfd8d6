import type { Command } from 'commander';
import type { Priority } from '../../campaigns/campaign.js';
import { formatDuration } from '../../config/duration.js';
import { blockedReport, describeBlocked, type BlockedReport } from '../../lanes/blocked-tenants.js';
import { fitsNow } from '../../lanes/reserve.js';
import { configFor, printJson } from '../context.js';
import { count, formatTable } from './shared/output.js';
import { withSession } from './shared/session.js';

const EXAMPLE = `
Examples:
  fleetscan tenants
  fleetscan tenants --json | jq '.tenants[] | {name, held: .heldForMs}'
  fleetscan tenants --json | jq '.tenants[] | select(.blocked) | {name, blocked}'`;

export interface TenantReport {
  name: string;
  cloud: string;
  budgetId: string;
  windows: { cap: number; windowMs: number; used: number; reserve: number }[];
  /** ms until a 429's pause ends (this budget only); 0 when not held. */
  heldForMs: number;
  /** Whether a normal/background campaign may call now without touching the reserve. */
  normalMayCall: boolean;
  /** Whether an urgent campaign may call now. */
  urgentMayCall: boolean;
  campaignsWaiting: Record<Priority, number>;
  devicesDue: number;
  devicesInProgress: number;
  /** The tenant-wide fault breaker: why dispatch stopped and the fix; null while calls may go. */
  blocked: BlockedReport | null;
}

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
      const config = configFor(command);
      await withSession(config, async ({ redis, tenants, lanes }) => {
        const [seconds, micros] = await redis.time();
        const now = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
        const reports: TenantReport[] = [];
        for (const tenant of tenants.list()) {
          const lane = lanes.forTenant(tenant.name);
          const [usage] = await tenant.limiter.usage('scan');
          const stats = await lane.stats();
          const windows = lane.windows.map((w, i) => ({
            cap: w.cap,
            windowMs: w.windowMs,
            used: usage?.windows[i]?.used ?? 0,
            reserve: lane.reserve[i] ?? 0,
          }));
          const heldForMs = Math.max(0, (usage?.pausedUntil ?? now) - now);
          const used = windows.map((w) => w.used);
          const caps = windows.map((w) => w.cap);
          reports.push({
            name: tenant.name,
            cloud: tenant.cloud,
            budgetId: tenant.budgetId,
            windows,
            heldForMs,
            normalMayCall: heldForMs === 0 && fitsNow(false, used, caps, lane.reserve),
            urgentMayCall: heldForMs === 0 && fitsNow(true, used, caps, lane.reserve),
            campaignsWaiting: stats.campaigns,
            devicesDue: stats.due,
            devicesInProgress: stats.active,
            blocked: blockedReport(await lane.breaker.read()),
          });
        }
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
    ['TENANT', 'CLOUD', 'BUDGET USED (RESERVE)', 'HOLD', 'WAITING U/N/B', 'DUE', 'ACTIVE'],
    reports.map((r) => [
      r.name,
      r.cloud,
      r.windows
        .map(
          (w) =>
            `${count(w.used)}/${count(w.cap)} per ${formatDuration(w.windowMs)} (${count(w.reserve)})`,
        )
        .join(', '),
      r.blocked
        ? `BLOCKED (${r.blocked.reason})`
        : r.heldForMs > 0
          ? `held ${formatDuration(r.heldForMs)} (429)`
          : r.normalMayCall
            ? 'open'
            : r.urgentMayCall
              ? 'reserve only'
              : 'full',
      `${r.campaignsWaiting.urgent}/${r.campaignsWaiting.normal}/${r.campaignsWaiting.background}`,
      count(r.devicesDue),
      count(r.devicesInProgress),
    ]),
  );
}
