import type { Logger } from '../shared/logger.js';
import { pruneCampaigns, type PruneDeps, type PruneResult } from './prune-campaigns.js';
import type { RetentionLock } from './retention-lock.js';

export interface SweeperDeps extends Omit<PruneDeps, 'heartbeat'> {
  lock: RetentionLock;
  keepMs: number;
  intervalMs: number;
  log: Logger;
}

/**
 * The automatic sweep: every `intervalMs`, the process that holds the retention lock archives
 * what is past `keepMs`. Every worker runs one; the lock makes it one sweep at a time across the
 * deployment, and a killed holder's lease runs out so another takes over.
 */
export function startRetentionSweeper(deps: SweeperDeps) {
  let stopped = false;
  let running: Promise<PruneResult | null> | null = null;

  /** One round if the lock is free; null when another process holds it. */
  async function sweepOnce(): Promise<PruneResult | null> {
    if (!(await deps.lock.take())) return null;
    try {
      const result = await pruneCampaigns(
        { ...deps, heartbeat: () => deps.lock.renew() },
        { olderThanMs: deps.keepMs, dryRun: false },
      );
      for (const entry of result.entries) {
        if (entry.outcome === 'failed') {
          deps.log.warn({ campaignId: entry.campaignId, reason: entry.error }, 'archiving failed');
        } else {
          deps.log.info(
            { campaignId: entry.campaignId, devices: entry.devices, file: entry.archive?.file },
            'campaign archived and removed from Redis',
          );
        }
      }
      return result;
    } finally {
      await deps.lock.drop().catch(() => undefined);
    }
  }

  const tick = () => {
    if (stopped || running) return;
    running = sweepOnce()
      .catch((error: unknown) => {
        deps.log.warn({ reason: (error as Error).message }, 'retention sweep failed');
        return null;
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();
  // The first round soon after start, not a whole interval later (an hourly sweep and a worker
  // that restarts daily would otherwise rarely sweep).
  const first = setTimeout(tick, Math.min(deps.intervalMs, 30_000));
  first.unref();

  return {
    sweepOnce,
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      clearTimeout(first);
      await running;
    },
  };
}

export type RetentionSweeper = ReturnType<typeof startRetentionSweeper>;
