import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/shared/package-root.js';
import { testRedisUrl } from './redis.js';

/** The built CLI: tests run what users run. */
export const CLI_MAIN = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

const STAMP = join(packageRoot(), 'dist', '.e2e-build-stamp');
const LOCK = join(packageRoot(), 'dist', '.e2e-build-lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds `dist/` as `npm run build` does (tsc, then the asset copy) unless it is newer than every source file.
 * A lock folder keeps two test files (in two vitest workers) from compiling at once. Type errors
 * elsewhere in the tree do not stop the emit; only a missing CLI fails.
 */
export async function ensureBuilt(): Promise<void> {
  const root = packageRoot();
  mkdirSync(join(root, 'dist'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than the deadline was left by a killed run.
      if (Date.now() > deadline || Date.now() - statSync(LOCK).mtimeMs > 180_000)
        rmSync(LOCK, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    const sources = Math.max(
      ...['src', 'workers', 'config', 'bench'].map((dir) => newestMtime(join(root, dir))),
    );
    if (existsSync(CLI_MAIN) && existsSync(STAMP) && statSync(STAMP).mtimeMs > sources) return;
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: root,
      encoding: 'utf8',
    });
    if (!existsSync(CLI_MAIN)) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
    // Lua scripts and dashboard assets are loaded next to the compiled code.
    spawnSync(process.execPath, [join(root, 'scripts', 'copy-assets.js')], { cwd: root });
    writeFileSync(STAMP, String(Date.now()));
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI process running in the background, its output collected as it comes. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<CliResult>;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Options for node itself, before the script (`--import ...`). */
  nodeArgs?: readonly string[];
}

/** Starts `node dist/src/cli/main.js ...args` with `env` on top of a minimal environment. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_MAIN, ...args], {
    cwd: options.cwd ?? packageRoot(),
    // Only what the test gives, plus PATH/HOME: the developer's own REDIS_URL or MDE_* never leak in.
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the CLI to the end; kills it (and fails) after `timeoutMs`. */
export async function runCli(
  args: readonly string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<CliResult> {
  const run = spawnCli(args, options);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `predicate` holds for the process's output so far; rejects if it exits first. */
export async function waitForOutput(
  run: CliProcess,
  predicate: (text: string) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state = { exited: false };
  void run.exited.then(() => (state.exited = true));
  while (!predicate(run.stdout() + run.stderr())) {
    if (state.exited) throw new Error(`process exited before expected output:\n${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for output:\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The environment of a CLI child in a test: the shared test Redis, and both the deployment's and
 * the budgets' keys under the test's own prefix, so parallel tests never share a budget.
 */
export function cliTestEnv(prefix: string, logLevel = 'warn'): NodeJS.ProcessEnv {
  return {
    REDIS_URL: testRedisUrl(),
    FLEETSCAN_PREFIX: prefix,
    FLEETSCAN_BUDGET_PREFIX: prefix,
    LOG_LEVEL: logLevel,
  };
}
