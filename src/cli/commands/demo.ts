import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface DemoCliOptions {
  devices: string;
  timeScale: string;
  workers: string;
  concurrency: string;
  faultRate: string;
  lostRate: string;
  seed: string;
  out?: string;
  json?: boolean;
  dashboard?: boolean;
  dashboardPort?: string;
}

const EXAMPLE = `
Examples:
  npm run demo
  fleetscan demo --devices 5000 --time-scale 240
  fleetscan demo --json --out demo.csv
  fleetscan demo --dashboard --dashboard-port 3000

Needs nothing but this package: it finds or starts a Redis (REDIS_URL, 127.0.0.1:6379, Docker, or
redis-server), runs the simulator over TLS with a compressed clock, and runs \`fleetscan scan\` and
two \`fleetscan worker\` processes against it, with the real token provider and limiter.

With --dashboard it also runs \`fleetscan dashboard --allow-actions\` with sign-in by Entra ID
against the simulator, prints its URL and the test users to sign in as (viewer, operator, admin),
and after the summary keeps Redis, the simulator and the dashboard running until Ctrl-C.`;

/** `fleetscan demo`: one whole campaign against the simulator, with live progress and a summary. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run one campaign end to end against the built-in simulator (nothing to install)')
    .option('--devices <n>', 'devices in the generated fleet', '2500')
    .option(
      '--time-scale <x>',
      'how much faster than real time the API windows run (120: a minute is 0.5 s)',
      '120',
    )
    .option('--workers <n>', 'worker processes', '2')
    // At ×120 the budget is 200 calls a second: more jobs in flight than a real-time worker needs.
    .option('--concurrency <n>', 'jobs in progress per worker', '16')
    .option('--fault-rate <share>', 'share of calls answered 5xx', '0.02')
    .option('--lost-rate <share>', 'share of replies lost after the action was made', '0.01')
    .option('--seed <n>', 'seed of the generated fleet and faults', '1')
    .option('--out <file>', 'where to write the CSV export (default: the temp folder)')
    .option('--json', 'print only the summary, as one JSON object')
    .option(
      '--dashboard',
      'also run the dashboard with Entra sign-in (test users per role); keep running until Ctrl-C',
    )
    .option('--dashboard-port <n>', 'port of the dashboard on 127.0.0.1 (default: a free one)')
    .addHelpText('after', EXAMPLE)
    .action(async (options: DemoCliOptions) => {
      const devices = number('--devices', options.devices, 1, 1_000_000, true);
      const timeScale = number('--time-scale', options.timeScale, 1, 10_000);
      if (options.dashboardPort !== undefined && options.dashboard !== true)
        throw new UsageError('--dashboard-port needs --dashboard');
      const askedPort =
        options.dashboardPort === undefined
          ? undefined
          : number('--dashboard-port', options.dashboardPort, 1, 65_535, true);
      // Loaded here: the simulator (fastify, certificates) is for the demo only, not every command.
      const { runDemo } = await import('../../demo/run-demo.js');
      const { pickDashboardPort } = await import('../../demo/dashboard-port.js');
      const { DashboardPortTaken } = await import('../../demo/demo-dashboard.js');
      // Checked before anything starts: a taken port leaves nothing behind.
      const picked = options.dashboard === true ? await pickDashboardPort(askedPort) : undefined;
      if (picked && 'refused' in picked) {
        throw new UsageError(
          `--dashboard-port: cannot listen on 127.0.0.1:${String(askedPort)} (${picked.refused === 'EADDRINUSE' ? 'in use' : picked.refused}); pick another port, or leave the flag out for a free one`,
        );
      }
      const summary = await runDemo({
        devices,
        timeScale,
        workers: number('--workers', options.workers, 1, 32, true),
        concurrency: number('--concurrency', options.concurrency, 1, 1_000, true),
        faultRate: number('--fault-rate', options.faultRate, 0, 0.5),
        lostRate: number('--lost-rate', options.lostRate, 0, 0.5),
        seed: number('--seed', options.seed, 0, 2 ** 31, true),
        json: options.json === true,
        out: options.out,
        // Generous: the floor at this scale, three times over, plus start-up.
        timeoutMs: 120_000 + (3 * 3_600_000 * Math.ceil(devices / 1_500)) / timeScale,
        dashboardPort: picked?.port,
      }).catch((error: unknown) => {
        // Taken between the check and the dashboard's listen: still the flag's problem.
        if (error instanceof DashboardPortTaken) throw new UsageError(error.message);
        throw error;
      });
      if (summary.counts.queued + summary.counts.deferred > 0) process.exitCode = 1;
    });
}

function number(flag: string, text: string, min: number, max: number, whole = false): number {
  const value = Number(text);
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (whole && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `Expected ${flag} to be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${text}`,
    );
  }
  return value;
}
