import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { UsageError } from '../errors.js';

interface WorkerOptions {
  concurrency?: string;
  lockDuration?: string;
  stalledInterval?: string;
  maxStalled?: string;
  poll: boolean;
  schedules: boolean;
}

/** `fleetscan worker`: runs scan jobs until SIGTERM/SIGINT, then finishes the calls in flight. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      "Dispatch every tenant's waiting devices within their budgets until signalled (SIGTERM/SIGINT: finish calls in flight, exit 0)",
    )
    .option(
      '--concurrency <n>',
      'devices in progress at once in this process, over every tenant (default: worker.concurrency, 8)',
    )
    .option(
      '--lock-duration <duration>',
      "how long a device stays with a worker that stopped renewing it; a killed worker's devices return after it (default: worker.lockDuration, 30s)",
    )
    .option(
      '--stalled-interval <duration>',
      'ignored since 0.1.0, will be removed in 1.0.0: dispatch gives back the devices of dead workers once their --lock-duration lease ends',
    )
    .option(
      '--max-stalled <n>',
      'ignored since 0.1.0, will be removed in 1.0.0: a device orphaned by a dying worker spends one of scan.attempts',
    )
    .option('--no-poll', 'do not take part in refreshing MachineAction statuses')
    .option('--no-schedules', 'do not take part in firing schedules')
    .addHelpText(
      'after',
      '\nExample:\n  REDIS_URL=redis://10.0.0.5:6379 MDE_TENANT_ID=… MDE_CLIENT_ID=… MDE_CLIENT_SECRET=… \\\n' +
        '    fleetscan worker --concurrency 8\n\nRun as many as you like on any hosts sharing the Redis: they share one API budget.',
    )
    .action(async (options: WorkerOptions, command: Command) => {
      const { configFor, loggerFor } = await import('../context.js');
      const concurrency =
        options.concurrency === undefined
          ? undefined
          : wholeNumber('--concurrency', options.concurrency, 1);
      for (const warning of ignoredFlagWarnings(options)) process.stderr.write(`${warning}\n`);
      const config = configFor(command, {
        'worker.concurrency': concurrency,
        'worker.lockDuration': duration('--lock-duration', options.lockDuration),
      });
      const { runScanWorker, workerSettingsFrom } =
        await import('../../runtime/run-scan-worker.js');
      await runScanWorker(
        config,
        workerSettingsFrom(config, {
          pollActionStatuses: options.poll,
          fireSchedules: options.schedules,
        }),
        {
          log: loggerFor(config, 'fleetscan-worker'),
        },
      );
    });
}

/**
 * BullMQ's stalled-job checker is gone: these flags are still accepted so that service files
 * keep starting, and each one given says so on stderr (once, at start).
 */
export function ignoredFlagWarnings(options: {
  stalledInterval?: string;
  maxStalled?: string;
}): string[] {
  const given = [
    ...(options.stalledInterval === undefined ? [] : ['--stalled-interval']),
    ...(options.maxStalled === undefined ? [] : ['--max-stalled']),
  ];
  return given.map(
    (flag) =>
      `fleetscan worker: ${flag} is ignored since 0.1.0 (devices are leased for --lock-duration instead) and will be removed in 1.0.0; drop it from the command line.`,
  );
}

function wholeNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new UsageError(`Expected ${flag} to be a whole number ≥ ${min}, got ${text}`);
  return value;
}

function duration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`Expected ${flag} to be a duration such as 500ms, 5s or 1m, got ${text}`);
  return ms;
}
