import type { Command } from 'commander';
import type { Priority } from '../../campaigns/campaign.js';
import { formatDuration } from '../../config/duration.js';
import { blockedReport, describeBlocked, type BlockedReport } from '../../lanes/blocked-tenants.js';
import { fitsNow } from '../../lanes/reserve.js';
import { scaledReserve } from '../../limiter/adaptive/adjust-caps.js';
import { readAdaptiveState, type AdaptiveBudgetView } from '../../limiter/scan-limiter.js';
import { configFor, printJson } from '../context.js';
import { count, formatTable } from './shared/output.js';
import { withReadSession } from './shared/session.js';
import { redisTimeMs } from '../../shared/redis-time.js';

const EXAMPLE = `
Examples:
  fleetscan tenants
  fleetscan tenants --json | jq '.tenants[] | {name, held: .heldForMs}'
  fleetscan tenants --json | jq '.tenants[] | select(.blocked) | {name, blocked}'
  fleetscan tenants --json | jq '.tenants[] | {name, adaptive: .adaptive.state}'`;

export interface TenantReport {
  name: string;
  cloud: string;
  budgetId: string;
  /** `cap`: the effective cap the dispatcher applies (below `configuredCap` once a 429 taught it). */
  windows: {
    cap: number;
    configuredCap: number;
    windowMs: number;
    used: number;
    reserve: number;
  }[];
  /** The scan budget's adaptive state (issue 17): effective vs configured caps, last decrease. */
  adaptive: AdaptiveBudgetView;
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
      await withReadSession(config, async ({ redis, tenants, lanes }) => {
        const now = await redisTimeMs(redis);
        const reports: TenantReport[] = [];
        for (const tenant of tenants.list()) {
          const lane = lanes.forTenant(tenant.name);
          const [usage] = await tenant.limiter.usage('scan');
          const stats = await lane.stats();
          const adaptive = await readAdaptiveState(tenant.limiter, 'scan');
          const windows = lane.windows.map((w, i) => ({
            cap: usage?.windows[i]?.cap ?? w.cap,
            configuredCap: w.cap,
            windowMs: w.windowMs,
            used: usage?.windows[i]?.used ?? 0,
            // Under a lowered cap the dispatcher keeps the reserve's share, not its count.
            reserve: scaledReserve(lane.reserve[i] ?? 0, usage?.windows[i]?.cap ?? w.cap, w.cap),
          }));
          const heldForMs = Math.max(0, (usage?.pausedUntil ?? now) - now);
          const used = windows.map((w) => w.used);
          const caps = windows.map((w) => w.cap);
          const reserve = windows.map((w) => w.reserve);
          reports.push({
            name: tenant.name,
            cloud: tenant.cloud,
            budgetId: tenant.budgetId,
            windows,
            adaptive,
            heldForMs,
            normalMayCall: heldForMs === 0 && fitsNow(false, used, caps, reserve),
            urgentMayCall: heldForMs === 0 && fitsNow(true, used, caps, reserve),
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
      r.blocked
        ? `BLOCKED (${r.blocked.reason})`
        : r.heldForMs > 0
          ? `held ${formatDuration(r.heldForMs)} (429)`
          : r.normalMayCall
            ? 'open'
            : r.urgentMayCall
              ? 'reserve only'
              : 'full',
      describeAdaptive(r.adaptive),
      `${r.campaignsWaiting.urgent}/${r.campaignsWaiting.normal}/${r.campaignsWaiting.background}`,
      count(r.devicesDue),
      count(r.devicesInProgress),
    ]),
  );
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
