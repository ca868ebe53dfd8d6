/**
 * `npm run bench [-- scenario...] [--large] [--smoke]`: measures fleetscan against the API's
 * ceiling and against the alternatives, on a private redis-server, and writes
 * `bench/results/<date>-<scenario>.json` plus `bench/results/latest.md`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { packageRoot } from '../src/shared/package-root.js';
import { startRedisServer } from '../src/shared/redis-server.js';
import { redisVersion, type BenchContext, type BenchOptions } from './lib/context.js';
import { killAllChildren } from './lib/processes.js';
import {
  formatTable,
  renderMarkdown,
  type BenchEnvironment,
  type ScenarioResult,
  type ScenarioRun,
} from './lib/report.js';
import { SCENARIOS, type ScenarioName } from './scenarios/index.js';

interface Invocation {
  scenarios: ScenarioName[];
  options: BenchOptions;
}

function parseArgs(args: readonly string[]): Invocation {
  const names = Object.keys(SCENARIOS) as ScenarioName[];
  const isName = (arg: string): arg is ScenarioName => (names as string[]).includes(arg);
  const scenarios: ScenarioName[] = [];
  const options: BenchOptions = { large: false, smoke: false };
  for (const arg of args) {
    if (arg === '--large') options.large = true;
    else if (arg === '--smoke') options.smoke = true;
    else if (isName(arg)) scenarios.push(arg);
    else
      throw new Error(
        `Unknown argument ${arg}; scenarios: ${names.join(', ')}; flags: --large, --smoke`,
      );
  }
  // A smoke run is one scenario in seconds (CI); the default run is all of them.
  if (scenarios.length === 0)
    scenarios.push(...(options.smoke ? (['efficiency'] as const) : names));
  return { scenarios, options };
}

function bullmqVersion(root: string): string {
  const file = join(root, 'node_modules', 'bullmq', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function readLatest(file: string): Record<string, ScenarioRun> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, ScenarioRun>;
  } catch {
    return {};
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const { scenarios, options } = parseArgs(args);
  const root = packageRoot();
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'fleetscan-bench-'));
  const server = await startRedisServer();
  // Ctrl-C: no worker, simulator client or redis-server may outlive the bench.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      void server.kill('SIGKILL').finally(() => process.exit(130));
    });
  }
  const admin = new Redis(server.url, { maxRetriesPerRequest: null });
  const progress = (message: string) => {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  };
  const ctx: BenchContext = {
    redisUrl: server.url,
    admin,
    options,
    workDir,
    progress,
    queuedFleet: null,
  };
  const env: BenchEnvironment = {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    redis: await redisVersion(admin),
    bullmq: bullmqVersion(root),
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg()[0] ?? 0,
    args,
  };
  progress(`redis-server ${env.redis} on ${server.url}; scenarios: ${scenarios.join(', ')}`);

  const latestFile = join(resultsDir, 'latest.json');
  const latest = readLatest(latestFile);
  let failed = 0;
  try {
    for (const name of scenarios) {
      const started = performance.now();
      let result: ScenarioResult;
      try {
        // Each scenario empties Redis itself, except where it adopts what the last one left.
        result = await SCENARIOS[name](ctx);
      } catch (error) {
        failed++;
        progress(
          `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        continue;
      }
      result = { ...result, elapsedMs: performance.now() - started };
      process.stdout.write(`\n== ${name} ==\n${result.tables.map(formatTable).join('\n\n')}\n`);
      for (const note of result.notes) process.stdout.write(`  * ${note}\n`);
      const stamp = env.date.slice(0, 19).replaceAll(':', '-');
      const file = join(resultsDir, `${stamp}${options.smoke ? '-smoke' : ''}-${name}.json`);
      writeFileSync(file, `${JSON.stringify({ env, result }, null, 2)}\n`);
      // A smoke run proves the bench still works; it must not replace measured figures.
      if (!options.smoke) {
        latest[name] = { env, result };
        writeFileSync(latestFile, `${JSON.stringify(latest, null, 2)}\n`);
        const ordered = (Object.keys(SCENARIOS) as ScenarioName[]).flatMap((n) => latest[n] ?? []);
        writeFileSync(join(resultsDir, 'latest.md'), renderMarkdown(ordered));
      }
    }
  } finally {
    admin.disconnect();
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
