import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI entry next to this module (`dist/src/cli/main.js`). */
export function cliEntry(): string {
  const entry = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (!existsSync(entry))
    throw new Error(`The built CLI is missing (${entry}): run npm run build first.`);
  return entry;
}

export interface CliChild {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `fleetscan <args>` as a child process, exactly as an operator would, with `env` as its
 * whole environment. Output goes to `logFile` (appended), or is captured when `capture` is set.
 */
export function spawnCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  output: { logFile: string } | { capture: true },
): CliChild & { stdout(): string; stderr(): string } {
  const sink = 'logFile' in output ? openSync(output.logFile, 'a') : 'pipe';
  const child = spawn(process.execPath, [cliEntry(), ...args], {
    env,
    stdio: ['ignore', sink, sink],
  });
  if (typeof sink === 'number') closeSync(sink); // the child holds its own copy
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        resolve({ code, signal });
      });
    },
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}
