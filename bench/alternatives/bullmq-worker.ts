/**
 * A plain BullMQ worker, as an integrator would write one without fleetscan: either BullMQ's
 * own `limiter` (one fixed window counting job starts) in front of a got POST, or a no-op
 * processor to measure BullMQ itself. Run as a child process: `node bullmq-worker.js '<json>'`.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createScanCall } from './scan-call.js';

interface Settings {
  redisUrl: string;
  prefix: string;
  queue: string;
  mode: 'scan' | 'noop';
  concurrency: number;
  limiter: { max: number; duration: number } | null;
  apiUrl: string;
  token: string;
  defaultRetryAfterMs: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
const scan = createScanCall(settings);
// BullMQ 6 moved the manual rate limit from the worker to the queue.
const queue = new Queue(settings.queue, { connection, prefix: settings.prefix });

const worker: Worker<{ machineId: string }> = new Worker<{ machineId: string }>(
  settings.queue,
  async (job: Job<{ machineId: string }>) => {
    if (settings.mode === 'noop') return;
    const outcome = await scan(job.data.machineId);
    switch (outcome.kind) {
      case 'created':
        return;
      case 'throttled':
        // BullMQ's documented way to honour a server's Retry-After: pause this queue's
        // workers and put the job back without spending an attempt.
        await queue.rateLimit(outcome.retryAfterMs);
        throw Worker.RateLimitError();
      case 'transient':
        throw new Error(`transient ${outcome.status}`);
      case 'failed':
        throw new UnrecoverableError(`${outcome.status} ${outcome.code}`);
    }
  },
  {
    connection,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    ...(settings.limiter ? { limiter: settings.limiter } : {}),
  },
);
worker.on('error', () => undefined);

await worker.waitUntilReady();
process.stdout.write('ready\n');

const shutdown = () => {
  void Promise.all([worker.close(), queue.close()]).then(() => {
    connection.disconnect();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
