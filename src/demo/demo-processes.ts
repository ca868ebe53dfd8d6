import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli, type CliChild } from './cli-child.js';
import type { DemoEnvironment } from './demo-environment.js';

/** `fleetscan worker` × n, each logging to its own file in the demo folder. */
export function startWorkers(env: DemoEnvironment, count: number, concurrency: number): CliChild[] {
  const args = ['worker', '--concurrency', String(concurrency), '--lock-duration', '10s'];
  return Array.from({ length: count }, (_, i) =>
    spawnCli(args, env.env, { logFile: workerLog(env, i) }),
  );
}

export function workerLog(env: DemoEnvironment, index: number): string {
  return join(env.dir, `worker-${index + 1}.log`);
}

/** SIGTERM, as an operator would: each worker finishes and records its calls in flight. */
export async function stopWorkers(workers: CliChild[]): Promise<void> {
  await Promise.all(
    workers.splice(0).map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited.catch(() => undefined);
      clearTimeout(timer);
    }),
  );
}

/** Creates the campaign with `fleetscan scan --devices <fleet file> --json`; returns its id. */
export async function createCampaign(env: DemoEnvironment): Promise<string> {
  const args = [
    'scan',
    '--devices',
    env.deviceFile,
    '--comment',
    'fleetscan demo',
    '--name',
    'demo',
    '--json',
  ];
  const scan = spawnCli(args, env.env, { capture: true });
  const { code } = await scan.exited;
  if (code !== 0)
    throw new Error(`fleetscan scan failed (exit ${String(code)}): ${scan.stderr().trim()}`);
  const parsed = JSON.parse(scan.stdout()) as { campaignId?: unknown };
  if (typeof parsed.campaignId !== 'string')
    throw new Error(`fleetscan scan printed no campaign id: ${scan.stdout()}`);
  return parsed.campaignId;
}

/** The last lines of a log file, for an error message. */
export function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
