import type { Command } from 'commander';
import { hostname } from 'node:os';
import { listWorkers, WORKER_HEARTBEAT_MS } from '../../ops/worker-presence.js';

const EXAMPLE = `
Examples:
  fleetscan healthcheck                      # in a container: the image's HEALTHCHECK runs this
  fleetscan healthcheck --port 3100          # the standalone API instead of the dashboard

Healthy (exit 0) when a worker process on this host beat within its last three heartbeats, or
when the dashboard (or API) on this host answers /healthz. Otherwise exit 1 with the reason.`;

/** Why a process on this host is (or is not) healthy: one sentence for `docker inspect`. */
export async function checkHealth(options: {
  workerAlive: () => Promise<boolean>;
  healthz: () => Promise<number | null>;
}): Promise<{ healthy: boolean; reason: string }> {
  // A Redis that does not answer must not hold the check past the container's timeout.
  const bounded = <T>(work: Promise<T>, fallback: T) =>
    Promise.race([
      work.catch(() => fallback),
      new Promise<T>((resolve) =>
        setTimeout(() => {
          resolve(fallback);
        }, 5_000).unref(),
      ),
    ]);
  const [worker, status] = await Promise.all([
    bounded(options.workerAlive(), false),
    bounded(options.healthz(), null),
  ]);
  if (worker) return { healthy: true, reason: `a worker on ${hostname()} is beating` };
  if (status === 200) return { healthy: true, reason: 'the dashboard answers /healthz' };
  return {
    healthy: false,
    reason:
      status === null
        ? `no worker on ${hostname()} has beaten in the last ${(3 * WORKER_HEARTBEAT_MS) / 1_000} s and nothing answers /healthz`
        : `no worker on ${hostname()} is beating and /healthz answered ${status}`,
  };
}

/** `fleetscan healthcheck`: the container image's HEALTHCHECK, for workers and the dashboard alike. */
export function registerHealthcheckCommand(program: Command): void {
  program
    .command('healthcheck')
    .description('Exit 0 when a worker or the dashboard on this host is alive (container health)')
    .option(
      '--port <port>',
      'the dashboard or API port to ask for /healthz (default: dashboard.port)',
    )
    .addHelpText('after', EXAMPLE)
    .action(async (options: { port?: string }, command: Command) => {
      const { configFor, connectRedisForCommand } = await import('../context.js');
      const config = configFor(command, { 'log.level': 'silent' });
      const port = options.port === undefined ? config.dashboard.port : Number(options.port);
      const result = await checkHealth({
        workerAlive: async () => {
          const redis = await connectRedisForCommand(config, 'read');
          try {
            const workers = await listWorkers(redis, config.redis.prefix, {
              intervalMs: WORKER_HEARTBEAT_MS,
            });
            return workers.some((w) => w.host === hostname());
          } finally {
            redis.disconnect();
          }
        },
        healthz: async () =>
          (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) }))
            .status,
      });
      process.stdout.write(`${result.healthy ? 'healthy' : 'unhealthy'}: ${result.reason}\n`);
      process.exitCode = result.healthy ? 0 : 1;
    });
}
