import type { Logger } from '../shared/logger.js';
import type { ActionTracker } from './action-tracker.js';

/**
 * Runs tracker rounds every `intervalMs` in this process (every worker runs one; the fenced lock
 * lets one of them work per round). A round still running when the next tick comes is not
 * doubled. `stop()` waits for a round in flight and frees the lock.
 */
export function startActionTracker(tracker: ActionTracker, intervalMs: number, log: Logger) {
  let stopped = false;
  let running: Promise<void> | null = null;
  const tick = () => {
    if (stopped || running) return;
    running = tracker
      .runRound()
      .then((r) => {
        if (r.ran && (r.changed > 0 || r.settled.length > 0))
          log.debug({ changed: r.changed, listed: r.listed, settled: r.settled }, 'tracker round');
      })
      .catch((error: unknown) => {
        log.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'tracker round failed',
        );
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    /** Runs one round now (tests, `--once`). */
    runRound: () => tracker.runRound(),
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
      await tracker.release().catch(() => undefined);
    },
  };
}

export type RunningTracker = ReturnType<typeof startActionTracker>;
