import type { SimContext } from './sim-context.js';

/** Requestor of the scans that were already running before the simulator started. */
export const OTHER_REQUESTOR = 'soc-analyst@contoso.com';

/**
 * Devices marked `busyWithOtherScan` start with a Pending scan somebody else asked for (from the
 * portal), which stays Pending for about `otherScanMs` and then runs to completion.
 */
export function seedOtherScans(ctx: SimContext, startMs: number): void {
  const { otherScanMs, inProgressMs } = ctx.opts.lifecycle;
  for (const machine of ctx.machineList) {
    if (!machine.simulation.busyWithOtherScan) continue;
    const createdMs = startMs - ctx.random.busy.int(1, 120) * 1000;
    const startedMs = startMs + otherScanMs * (0.5 + ctx.random.busy.next());
    ctx.actions.add({
      id: ctx.random.ids.guid(),
      machine,
      requestor: OTHER_REQUESTOR,
      comment: 'Weekly quick scan (portal)',
      scope: 'Quick',
      requestSource: 'Portal',
      createdMs,
      transitions: machine.simulation.offline
        ? [
            {
              atMs: startedMs + inProgressMs,
              status: machine.simulation.offlineOutcome ?? 'TimeOut',
            },
          ]
        : [
            { atMs: startedMs, status: 'InProgress' },
            { atMs: startedMs + inProgressMs, status: 'Succeeded' },
          ],
    });
  }
}
