import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** CPU time and peak memory of one child, read from /proc so any program can be measured. */
export interface ProcessCost {
  pid: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** VmHWM: the most resident memory the process ever had. */
  peakRssBytes: number;
}

export interface Child {
  pid: number;
  process: ChildProcess;
  /** Every stdout line so far (children report JSON results there). */
  lines: string[];
  stderr: string[];
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Reads the cost while the process is still alive (after exit /proc has forgotten it). */
  cost(): ProcessCost | null;
  exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** Every child still running, so an interrupted bench leaves no worker behind. */
const live = new Set<ChildProcess>();

/** SIGKILLs every child this process started that is still running. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** Clock ticks per second for /proc/<pid>/stat (getconf CLK_TCK is 100 on every Linux we run). */
const CLOCK_TICKS = 100;

export function startChild(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  label: string,
): Child {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${label}: could not start ${command}`);
  const pid = child.pid;
  live.add(child);
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<(line: string) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) waiter(line);
  });
  // Keep only the tail of stderr: a chatty child must not fill the bench's memory.
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });

  const waitForLine = (match: (line: string) => boolean, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen !== undefined) {
        resolve(seen);
        return;
      }
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `${label}: no expected output within ${timeoutMs} ms; stderr: ${stderr.slice(-5).join(' | ')}`,
          ),
        );
      }, timeoutMs);
      const waiter = (line: string) => {
        if (!match(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
      void exited.then((code) => {
        if (!waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(
          new Error(
            `${label} exited (${code}) before the expected output; stderr: ${stderr.slice(-5).join(' | ')}`,
          ),
        );
      });
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return {
    pid,
    process: child,
    lines,
    stderr,
    waitForLine,
    cost: () => readCost(pid),
    exited,
    stop,
  };
}

/** utime + stime from /proc/<pid>/stat and VmHWM from /proc/<pid>/status; null once it is gone. */
export function readCost(pid: number): ProcessCost | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    // A zombie (exited, not yet reaped) has no memory lines: report nothing rather than 0.
    if (!hwm?.[1]) return null;
    return {
      pid,
      cpuUserMs: (utime * 1_000) / CLOCK_TICKS,
      cpuSystemMs: (stime * 1_000) / CLOCK_TICKS,
      peakRssBytes: Number(hwm[1]) * 1_024,
    };
  } catch {
    return null;
  }
}

/** Runs a child to completion and returns its stdout lines, failing on a non-zero exit. */
export async function runChild(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  label: string,
  timeoutMs: number,
): Promise<{ lines: string[]; elapsedMs: number; cost: ProcessCost | null }> {
  const started = performance.now();
  const child = startChild(command, args, env, label);
  let lastCost: ProcessCost | null = null;
  // Sample the cost while it runs: /proc forgets a process once it has exited.
  const sampler = setInterval(() => {
    lastCost = child.cost() ?? lastCost;
  }, 200);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  const code = await child.exited;
  clearInterval(sampler);
  clearTimeout(timer);
  const elapsedMs = performance.now() - started;
  if (code !== 0) {
    throw new Error(`${label} exited with ${code}: ${child.stderr.slice(-10).join('\n')}`);
  }
  return { lines: child.lines, elapsedMs, cost: lastCost };
}
