import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { paths, resetRedis, type BenchContext } from '../lib/context.js';
import { formatMs, type ScenarioResult } from '../lib/report.js';

/** What an on-call engineer types, with the targets of issue 26 (median of the runs). */
const COMMANDS = [
  { args: ['--version'], targetMs: 250 },
  { args: ['--help'], targetMs: 250 },
  { args: ['status', '--json'], targetMs: 500 },
] as const;

interface Timing {
  wallMs: number;
  /** User + system CPU of the process (bash's `times`): steadier than wall time on a busy host. */
  cpuMs: number;
}

interface CommandFigures {
  command: string;
  build: 'this build' | 'baseline';
  targetMs: number;
  runs: Timing[];
  medianWallMs: number;
  medianCpuMs: number;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * One run of `node main.js ...args`, timed inside bash (EPOCHREALTIME around the process, then
 * `times` for the CPU of its children) so that neither bash's nor the bench's start is counted.
 */
function timeOnce(main: string, args: readonly string[], env: NodeJS.ProcessEnv): Timing {
  const script =
    's=$EPOCHREALTIME; "$@" >/dev/null 2>&1; code=$?; e=$EPOCHREALTIME; ' +
    'echo "$code $s $e"; times';
  const run = spawnSync('bash', ['-c', script, 'bench', process.execPath, main, ...args], {
    encoding: 'utf8',
    env,
  });
  // Line 1: exit code and the two instants; `times` then prints bash's own CPU (line 2) and its
  // children's (line 3), each as user and system time: `0m0.123s 0m0.045s`.
  const [status = '', , children = ''] = run.stdout.trim().split('\n');
  const [code, start = 0, end = 0] = status.split(' ').map(Number);
  if (code !== 0) throw new Error(`fleetscan ${args.join(' ')} exited ${String(code)}`);
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, m) => sum + Number(m[1]) * 60_000 + Number(m[2]) * 1_000,
    0,
  );
  return { wallMs: (end - start) * 1_000, cpuMs: cpu };
}

/**
 * `--version`, `--help` and `status --json` as a person runs them: a fresh `node` per run, this
 * build against a baseline build (`BENCH_CLI_BASELINE`: a checkout whose `dist/` was built, for
 * example main before issue 26), runs interleaved so that both see the same host load.
 */
export async function cliScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const runs = ctx.options.smoke ? 1 : 5;
  const baselineDir = process.env['BENCH_CLI_BASELINE'];
  const baseline = baselineDir ? resolve(baselineDir, 'dist', 'src', 'cli', 'main.js') : null;
  if (baseline && !existsSync(baseline))
    throw new Error(`BENCH_CLI_BASELINE: no built CLI at ${baseline} (run npm run build there)`);
  const builds = [
    { build: 'this build' as const, main: paths.cli },
    ...(baseline ? [{ build: 'baseline' as const, main: baseline }] : []),
  ];

  await resetRedis(ctx);
  const env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    REDIS_URL: ctx.redisUrl,
    FLEETSCAN_PREFIX: 'bench-cli',
    FLEETSCAN_BUDGET_PREFIX: 'bench-cli',
    LOG_LEVEL: 'warn',
  };
  // One campaign of 100 devices, so that `status` has something to list and count.
  const devices = join(ctx.workDir, 'cli-devices.txt');
  writeFileSync(
    devices,
    `${Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(40, '0')).join('\n')}\n`,
  );
  const seeded = spawnSync(
    process.execPath,
    [paths.cli, 'scan', '--devices', devices, '--comment', 'bench cli'],
    { env, encoding: 'utf8' },
  );
  if (seeded.status !== 0) throw new Error(`fleetscan scan failed: ${seeded.stderr}`);

  const figures: CommandFigures[] = [];
  for (const { args, targetMs } of COMMANDS) {
    ctx.progress(`cli: fleetscan ${args.join(' ')} × ${String(runs)} per build`);
    const timings = new Map(builds.map((b) => [b.build, [] as Timing[]]));
    // The first run of each warms the file cache; it is not counted.
    for (const b of builds) timeOnce(b.main, args, env);
    for (let i = 0; i < runs; i++)
      for (const b of builds) timings.get(b.build)!.push(timeOnce(b.main, args, env));
    for (const b of builds) {
      const own = timings.get(b.build)!;
      figures.push({
        command: `fleetscan ${args.join(' ')}`,
        build: b.build,
        targetMs,
        runs: own,
        medianWallMs: median(own.map((t) => t.wallMs)),
        medianCpuMs: median(own.map((t) => t.cpuMs)),
      });
    }
  }

  const row = (f: CommandFigures) => {
    const before = figures.find((g) => g.command === f.command && g.build === 'baseline');
    return [
      f.command,
      formatMs(f.medianWallMs),
      formatMs(f.medianCpuMs),
      before ? formatMs(before.medianWallMs) : '–',
      before ? formatMs(before.medianCpuMs) : '–',
      `≤ ${String(f.targetMs)} ms`,
      f.medianWallMs <= f.targetMs ? 'pass' : 'FAIL',
    ];
  };
  return {
    scenario: 'cli',
    elapsedMs: 0,
    tables: [
      {
        title: `CLI start-up, median of ${String(runs)} runs (wall and CPU time of the process)`,
        columns: ['command', 'wall', 'CPU', 'baseline wall', 'baseline CPU', 'target', 'verdict'],
        rows: figures.filter((f) => f.build === 'this build').map(row),
      },
    ],
    notes: [
      'Each run is `node dist/src/cli/main.js ARGS` started afresh (the file cache warm: one run of each is made first and not counted), timed inside bash around the process; CPU is user + system of that process, which a busy host inflates less than wall time.',
      '`status --json` reads a private redis-server holding one campaign of 100 devices (made by `fleetscan scan`), so it connects, reads the store, the budget, the workers and the archive list.',
      baseline
        ? `Baseline: the build at ${baselineDir ?? ''} (BENCH_CLI_BASELINE), run interleaved with this one.`
        : 'No baseline: set BENCH_CLI_BASELINE to a checkout with a built dist/ (e.g. main) to compare.',
      'Targets (issue 26): --version and --help ≤ 250 ms, status --json ≤ 500 ms on the 2-core host, on a quiet host: the verdict is only meaningful with a load average well below the core count.',
    ],
    data: figures,
  };
}
