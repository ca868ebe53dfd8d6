import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import type { RateWindow } from '../../src/config/duration.js';
import { listScanSource } from '../../src/control/scan-sources.js';
import { startCampaign } from '../../src/control/start-campaign.js';
import { openSession } from '../../src/cli/commands/shared/session.js';
import { summariseScanCalls, type ScanCallSummary } from '../lib/call-analysis.js';
import { resetRedis, type BenchContext } from '../lib/context.js';
import { GUARD_MS } from '../lib/fleetscan-campaign.js';
import { campaignCounts, fleetscanEnv, startFleetscanWorkers } from '../lib/fleetscan-runner.js';
import { theoreticalFloorMs } from '../lib/floor.js';
import type { Child } from '../lib/processes.js';
import { formatApiTime, formatMs, formatRatio, type ScenarioResult } from '../lib/report.js';
import { compressed } from '../lib/sim-harness.js';
import {
  configureTenants,
  startTenantFleet,
  type BenchTenant,
  type TenantFleetSpec,
} from '../lib/tenant-fleet.js';

/**
 * Every tenant's app has Microsoft's windows divided by SCALE (5/1m, 75/1h) and campaigns of
 * 300–3,000 devices divided by SCALE (15–150): the same number of windows per campaign as the
 * real sizes (minute-bound up to 75 devices, hour-bound above), at a twentieth of the calls, so
 * 200 tenants fit a 2-core host. The efficiency a tenant reaches depends on how many windows
 * its campaign spans and how exactly each slot is reused, not on the cap.
 */
const SCALE = 20;
const WORKERS = 2;
/** Devices in progress at once per worker process, over every tenant. */
const CONCURRENCY = 32;
/** Target: every other tenant's efficiency moves less than this between the two runs. */
const MAX_MOVE = 0.02;

interface TenantRun {
  name: string;
  cloud: string;
  devices: number;
  fault: BenchTenant['fault'];
  floorMs: number;
  calls: ScanCallSummary;
  efficiency: number | null;
  counts: Record<string, number>;
}

interface FleetRun {
  faults: boolean;
  tenants: TenantRun[];
  /** Counted calls of every tenant ÷ first to last counted arrival over all of them, per real s. */
  callsPerSecond: number;
  countedCalls: number;
  /** CPU (user + system) of both worker processes over the run ÷ counted calls. */
  workerCpuMsPerCall: number | null;
  workerCpuMs: number | null;
  startCampaignsMs: number;
  elapsedMs: number;
}

function specFor(ctx: BenchContext): TenantFleetSpec {
  const windows: RateWindow[] = [
    { cap: 100 / SCALE, windowMs: 60_000 },
    { cap: 1_500 / SCALE, windowMs: 3_600_000 },
  ];
  // Smoke: 4 tenants of 15–40 devices (minute-bound only) at ×100: seconds.
  if (ctx.options.smoke) return { tenants: 4, smallest: 15, largest: 40, windows, factor: 100 };
  return { tenants: 200, smallest: 300 / SCALE, largest: 3_000 / SCALE, windows, factor: 25 };
}

const OPEN_STATES = ['queued', 'deferred'] as const;

/** Waits until every campaign in `ids` has no queued or deferred device; polls cheaply. */
async function waitAllDone(
  admin: Redis,
  prefix: string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const open = new Set(ids);
  const deadline = performance.now() + timeoutMs;
  while (open.size > 0) {
    for (const id of [...open]) {
      const counts = await campaignCounts(admin, prefix, id);
      if (OPEN_STATES.every((s) => (counts[s] ?? 0) === 0)) open.delete(id);
    }
    if (open.size === 0) return;
    if (performance.now() > deadline)
      throw new Error(`${open.size} tenant campaigns not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * One run: fresh simulators and Redis, two `fleetscan worker` processes serving every tenant,
 * one `normal` campaign per tenant started through `startCampaign` (the path behind `fleetscan
 * scan` and the automation API) in this process, one after another.
 */
async function runFleet(ctx: BenchContext, spec: TenantFleetSpec, faults: boolean) {
  await resetRedis(ctx);
  const started = performance.now();
  const { tenants, certificatePem } = await startTenantFleet(spec, faults);
  const windows = compressed(spec.windows, spec.factor);
  const prefix = faults ? 'tenants-faults' : 'tenants';
  let workers: Child[] = [];
  try {
    const base = fleetscanEnv({
      redisUrl: ctx.redisUrl,
      prefix,
      apiUrl: 'http://127.0.0.1:9',
      token: '',
      factor: spec.factor,
      windows,
      guardMs: GUARD_MS,
      workDir: ctx.workDir,
      // One campaign per budget measures dispatch against the whole cap.
      reserve: '0',
    });
    // No `default` tenant: every tenant comes from the `tenants:` list.
    delete base['MDE_ACCESS_TOKEN'];
    delete base['MDE_API_URL'];
    const configFile = base['FLEETSCAN_CONFIG'] ?? '';
    const env = {
      ...base,
      ...configureTenants(configFile, ctx.workDir, tenants, certificatePem),
    };
    workers = await startFleetscanWorkers(env, WORKERS, CONCURRENCY, ctx.admin, prefix);
    const config = loadConfig({ env });
    const session = await openSession(config);
    const campaignIds: string[] = [];
    const fleetStart = performance.now();
    try {
      for (const tenant of tenants) {
        const result = await startCampaign(
          { store: session.store, lanes: session.lanes },
          {
            source: listScanSource(tenant.ids, `bench:${tenant.name}`),
            scanType: 'Quick',
            comment: 'fleetscan bench tenants',
            name: `bench ${tenant.name}`,
            createdBy: 'bench',
            tenant: tenant.name,
          },
        );
        campaignIds.push(result.campaign.id);
        if (faults && tenant.fault === 'revoked-secret') {
          // Revoked right away: the token it gets at its first call lives 2 s, then no new one.
          tenant.sim.sim.rotateClientSecret('rotated-after-revocation');
        }
      }
    } finally {
      await session.close();
    }
    const startCampaignsMs = performance.now() - fleetStart;
    ctx.progress(
      `tenants${faults ? ' (faults)' : ''}: ${tenants.length} campaigns started in ${formatMs(startCampaignsMs)}`,
    );
    const longest = Math.max(...tenants.map((t) => theoreticalFloorMs(t.devices, windows)));
    const healthy = campaignIds.filter((_, i) => tenants[i]?.fault === 'none');
    await waitAllDone(ctx.admin, prefix, healthy, 120_000 + longest * 3);
    const costs = workers.map((w) => w.cost());
    const runs: TenantRun[] = [];
    for (const [i, tenant] of tenants.entries()) {
      const calls = summariseScanCalls(tenant.sim.sim.calls(), windows);
      const floorMs = theoreticalFloorMs(tenant.devices, windows);
      runs.push({
        name: tenant.name,
        cloud: tenant.cloud,
        devices: tenant.devices,
        fault: tenant.fault,
        floorMs,
        calls,
        efficiency: calls.spanMs > 0 ? floorMs / calls.spanMs : null,
        counts: await campaignCounts(ctx.admin, prefix, campaignIds[i] ?? ''),
      });
    }
    let first = Infinity;
    let last = -Infinity;
    let counted = 0;
    for (const run of runs) {
      counted += run.calls.counted;
      if (run.calls.firstArrivalMs !== null) first = Math.min(first, run.calls.firstArrivalMs);
      if (run.calls.lastCountedArrivalMs !== null)
        last = Math.max(last, run.calls.lastCountedArrivalMs);
    }
    const known = costs.filter((c) => c !== null);
    const cpu =
      known.length === costs.length
        ? known.reduce((sum, c) => sum + c.cpuUserMs + c.cpuSystemMs, 0)
        : null;
    const fleet: FleetRun = {
      faults,
      tenants: runs,
      countedCalls: counted,
      callsPerSecond: last > first ? (counted * 1_000) / (last - first) : 0,
      workerCpuMs: cpu,
      workerCpuMsPerCall: cpu === null || counted === 0 ? null : cpu / counted,
      startCampaignsMs,
      elapsedMs: performance.now() - started,
    };
    return fleet;
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await Promise.all(tenants.map((t) => t.sim.stop()));
  }
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * Issue 10, "bench tenants": many tenants on one worker pool, each against its own floor, and
 * what one tenant's 429 storm and another's revoked secret do to all the others.
 */
export async function tenantsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const spec = specFor(ctx);
  ctx.progress(
    `tenants: ${spec.tenants} tenants, ${spec.smallest}–${spec.largest} devices, ×${spec.factor}, baseline`,
  );
  const base = await runFleet(ctx, spec, false);
  ctx.progress(`tenants: the same with one 429 storm and one revoked secret`);
  const faulted = await runFleet(ctx, spec, true);

  const healthy = base.tenants.filter((t) => t.fault === 'none');
  const moves: { name: string; move: number | null }[] = healthy.map((t) => {
    const other = faulted.tenants.find((f) => f.name === t.name);
    const move =
      t.efficiency === null || other?.efficiency == null
        ? null
        : Math.abs(other.efficiency - t.efficiency) / t.efficiency;
    return { name: t.name, move };
  });
  const sortedMoves = moves.map((m) => m.move ?? Infinity).sort((a, b) => a - b);
  const effs = (run: FleetRun) =>
    run.tenants
      .filter((t) => t.fault === 'none')
      .map((t) => t.efficiency ?? 0)
      .sort((a, b) => a - b);
  const baseEffs = effs(base);
  const faultEffs = effs(faulted);
  const windows = compressed(spec.windows, spec.factor);
  const summaryRow = (label: string, run: FleetRun, sorted: number[]) => [
    label,
    run.tenants.length,
    formatRatio(sorted[0] ?? null),
    formatRatio(quantile(sorted, 0.5)),
    sorted.filter((e) => e < 0.95).length,
    run.tenants.filter((t) => t.fault === 'none').reduce((n, t) => n + t.calls.throttled, 0),
    run.tenants.filter((t) => t.fault !== 'none').reduce((n, t) => n + t.calls.throttled, 0),
    run.tenants.reduce((n, t) => n + t.calls.duplicateDevices, 0),
    Math.round(run.callsPerSecond),
    run.workerCpuMsPerCall === null ? '–' : `${run.workerCpuMsPerCall.toFixed(2)} ms`,
    formatMs(run.startCampaignsMs),
    formatMs(run.elapsedMs),
  ];
  const faultRows = faulted.tenants
    .filter((t) => t.fault !== 'none')
    .map((t) => [
      t.name,
      t.fault,
      t.devices,
      t.calls.counted,
      t.calls.throttled,
      Object.entries(t.counts)
        .filter(([k]) => ['requested', 'failed', 'queued', 'deferred', 'cancelled'].includes(k))
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ]);
  const tenantRows = base.tenants.map((t) => {
    const other = faulted.tenants.find((f) => f.name === t.name);
    const move = moves.find((m) => m.name === t.name)?.move;
    return [
      t.name,
      t.cloud,
      t.devices,
      formatApiTime(t.floorMs * spec.factor),
      formatApiTime(t.calls.spanMs * spec.factor),
      formatRatio(t.efficiency),
      t.calls.throttled,
      t.fault === 'none' ? formatRatio(other?.efficiency ?? null) : `(${t.fault})`,
      move === undefined || move === null ? '–' : `${(move * 100).toFixed(2)} %`,
    ];
  });
  const over = sortedMoves.filter((m) => m >= MAX_MOVE).length;
  return {
    scenario: 'tenants',
    elapsedMs: 0,
    tables: [
      {
        title: `${spec.tenants} tenants, one pool of ${WORKERS} worker processes × ${CONCURRENCY} (time ×${spec.factor})`,
        columns: [
          'run',
          'tenants',
          'lowest efficiency',
          'median efficiency',
          'tenants < 0.95',
          '429s (healthy tenants)',
          '429s (fault tenants)',
          'duplicates',
          'calls/s (real)',
          'worker CPU per call',
          'campaigns started in',
          'run took',
        ],
        rows: [
          summaryRow('baseline', base, baseEffs),
          summaryRow('one 429 storm + one revoked secret', faulted, faultEffs),
        ],
      },
      {
        title: 'Efficiency move of every other tenant between the two runs',
        columns: ['tenants compared', 'median move', '95th percentile', 'largest move', '≥ 2 %'],
        rows: [
          [
            moves.length,
            `${((quantile(sortedMoves, 0.5) ?? 0) * 100).toFixed(2)} %`,
            `${((quantile(sortedMoves, 0.95) ?? 0) * 100).toFixed(2)} %`,
            `${((sortedMoves[sortedMoves.length - 1] ?? 0) * 100).toFixed(2)} %`,
            over,
          ],
        ],
      },
      {
        title: 'The fault tenants in the fault run',
        columns: ['tenant', 'fault', 'devices', 'calls counted', '429s', 'devices'],
        rows: faultRows,
      },
      {
        title: 'Every tenant',
        columns: [
          'tenant',
          'cloud',
          'devices',
          'floor',
          'span',
          'floor/span',
          '429s',
          'floor/span with faults',
          'move',
        ],
        rows: tenantRows,
      },
    ],
    notes: [
      `Each tenant has its own app + tenant (own tenant id and client id) in its own simulator, so its own budget; commercial and gcc-high alternate. Every app's windows are Microsoft's divided by ${SCALE} (${spec.windows.map((w) => `${w.cap}/${formatApiTime(w.windowMs)}`).join(', ')}, API time) and the campaigns ${spec.smallest}–${spec.largest} devices (300–3,000 ÷ ${SCALE}, evenly spread): the same windows per campaign as the real sizes at a twentieth of the calls, so ${spec.tenants} tenants fit this host. Time ×${spec.factor}: windows ${windows.map((w) => `${w.cap}/${formatMs(w.windowMs)}`).join(', ')} real; reply latency ${spec.factor >= 100 ? '1–10' : `${Math.round(100 / spec.factor)}–${Math.round(1_000 / spec.factor)}`} ms real.`,
      `One pool: two \`fleetscan worker --concurrency ${CONCURRENCY}\` processes serve every tenant (one lane per budget, one Redis command connection + one subscriber each). The campaigns are started one after another through \`startCampaign\` (the code path behind \`fleetscan scan\` and the automation API), all within "campaigns started in"; \`limits.reserve: 0\` (one campaign per budget), guard ${GUARD_MS} ms.`,
      'Efficiency: the tenant\'s floor (best possible first-to-last call time for its devices under its windows) ÷ its span (first to last counted arrival in its own simulator\'s log). "move": |efficiency with faults − baseline| ÷ baseline, for every tenant but the two fault ones; target < 2 %.',
      "Faults (second run, same seeds): the last tenant meets a 429 storm (an invisible other consumer of its app spends five times its minute cap from its first call on); the one before it signs in with a client secret (TLS, 2 s tokens) that is revoked (`rotateClientSecret`) as soon as its campaign starts. The fault tenants' own figures are listed apart.",
      '"calls/s": counted calls of every tenant ÷ the time from the first to the last counted arrival over all tenants (real). "worker CPU per call": user + system CPU of both worker processes over the whole run (start-up included) ÷ counted calls.',
    ],
    data: { spec, base, faulted, moves, windows },
  };
}
