import { formatBytes, formatCount, type Cell, type Table } from './report.js';
import { MSSP_CALLS_PER_SECOND, sizingFor, type PerCall } from './scale-figures.js';
import type { WaitingCost } from './waiting-memory.js';

/** The loads issue 15 asks about, in real calls/s. */
const LOADS: readonly [string, number][] = [
  ['1,000-tenant MSSP, hour-bound average (1,000 × 1,500/h)', MSSP_CALLS_PER_SECOND],
  ['1,000-tenant MSSP, every tenant minute-bound at once (1,000 × 100/min)', (1_000 * 100) / 60],
  ['1M-device fleet, one tenant (1,500/h; 667 h of calls)', 1_500 / 3_600],
];

/** Real reply latency assumed for the places (`--concurrency`) a load keeps busy. */
const API_LATENCY_S = 0.5;
/** Share of one process's measured saturation rate a deployment should plan to use. */
const RATE_HEADROOM = 0.7;

/**
 * Worker and Redis needs of the loads, from measured per-call costs (linear): processes by CPU
 * (≤ half a core each) and by the one-process saturation rate, whichever is more.
 */
export function sizingTable(
  cost: PerCall,
  bytesPerWaitingDevice: number,
  oneProcessCallsPerSecond: number,
): Table {
  const rows: Cell[][] = LOADS.map(([label, rate]) => {
    const need = sizingFor(rate, cost);
    const byRate =
      oneProcessCallsPerSecond > 0
        ? Math.max(1, Math.ceil(rate / (RATE_HEADROOM * oneProcessCallsPerSecond)))
        : null;
    return [
      label,
      rate < 10 ? rate.toFixed(2) : Math.round(rate),
      need.workerCores === null ? '–' : need.workerCores.toFixed(2),
      Math.max(need.workerProcesses ?? 1, byRate ?? 1),
      Math.ceil(rate * API_LATENCY_S),
      `${(need.redisCoreShare * 100).toFixed(need.redisCoreShare < 0.01 ? 2 : 0)} %`,
    ];
  });
  rows.push([
    '1,000,000 devices waiting (Redis memory)',
    '–',
    '–',
    '–',
    '–',
    formatBytes(bytesPerWaitingDevice * 1_000_000),
  ]);
  return {
    title: 'Sizing, extrapolated linearly from the per-call costs of the 5/min step',
    columns: [
      'load',
      'calls/s',
      'worker cores',
      `worker processes (≤ 0.5 core and ≤ ${String(RATE_HEADROOM * 100)} % of one process's rate each)`,
      `calls in flight at ${String(API_LATENCY_S)} s latency (Σ --concurrency)`,
      'one Redis: CPU share (memory)',
    ],
    rows,
  };
}

export interface ScaleNoteFigures {
  tenants: number;
  factor: number;
  concurrency: number;
  stepWindows: string;
  memory: WaitingCost;
  saturationCalls: number;
  bestHeld: number | null;
  firstFailing: number | null;
  ceilingSat: number | null;
  ceilingTarget: number | null;
}

export function scaleNotes(f: ScaleNoteFigures): string[] {
  const ceiling = (value: number | null) => (value === null ? '–' : formatCount(value));
  return [
    `Each of the ${f.tenants} tenants has its own app + tenant in its own simulator (its own budget), all in the bench process; commercial and gcc-high alternate. Steps: every tenant at one per-tenant cap (hour cap 15 × the minute cap, as Microsoft's), time ×${f.factor}, reply latency ${Math.round(100 / f.factor)}–${Math.round(1_000 / f.factor)} ms real (0.1–1 s of API time); windows real: ${f.stepWindows}. Campaigns of 3–6 minute windows (3 × to 6 × the cap, evenly spread), started one after another through \`startCampaign\` by a child process while two \`fleetscan worker --concurrency ${f.concurrency}\` processes listen; \`limits.reserve: 0\`.`,
    '"calls/s at the floors": Σ devices ÷ floor over the tenants, the rate the fleet makes if every tenant runs at its own floor; "calls/s made": Σ devices ÷ span (each tenant over its own first to last call); "rate ÷ floors" (issue 15\'s ≥ 0.95): the one ÷ the other (each tenant\'s efficiency weighted by its floor rate). "calls/s (first to last call)": counted calls ÷ the time from the first to the last counted arrival over every tenant, lower because campaigns start over several seconds and the small ones end early. Higher steps run until one falls below 0.95 or meets a 429: where this host stops keeping up.',
    'CPU: worker processes from /proc/<pid>/stat between their registration and the last campaign done (start-up excluded) ÷ counted calls; "cores" = that CPU ÷ the same time. Redis: INFO `total_commands_processed`, commandstats `evalsha` and `used_cpu_user + used_cpu_sys` over the same span (the bench\'s own reads subtracted); in the steps they include the campaigns\' enqueue (started while the workers ran). Simulator cores: the bench process, which hosts every simulator.',
    `Saturation: one \`fleetscan worker --concurrency ${f.concurrency}\`, ${formatCount(f.saturationCalls)} calls spread over every tenant's budget, then the same number in one budget, windows out of reach, ×100 (latency 1–10 ms real), all campaigns enqueued before the worker started (every schedule firing at once), so its Redis figures are the drain alone. Redis, the worker and the simulators share this host's 2 cores: "worker cores" below 1 means something else (Redis, the simulators, other load) set the pace.`,
    `Memory: used_memory deltas of the bench's own redis-server. Per waiting device: one campaign of ${formatCount(f.memory.devices)} devices enqueued through \`startCampaign\` (the marginal cost; a campaign's own keys spread thin), and in the saturation run (20 devices per campaign, per-campaign keys included). Per finished device: after the saturation run (compact record kept until retention archives it).`,
    `Where one Redis stops being enough (extrapolated, not measured: this 2-core host runs out first): Redis runs commands on one thread, so at 1 core it serves about ${ceiling(f.ceilingTarget)} calls/s at the 5/min step's Redis CPU per call (${ceiling(f.ceilingSat)} at the saturation run's). The highest step this host held: ${f.bestHeld === null ? 'none' : `${formatCount(f.bestHeld)} calls/s made`}${f.firstFailing === null ? '' : `; the ${f.firstFailing}/min step did not hold`}.`,
  ];
}
