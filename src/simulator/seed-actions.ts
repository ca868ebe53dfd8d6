import { planEvidence } from './device-events.js';
import type { ActionStatus, StoredAction } from './machine-actions.js';
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

/** An action requested before the test looked (see `Simulator.addActions`). */
export interface RecordedActionSpec {
  machineId: string;
  comment: string;
  createdMs: number;
  /** When it reaches `outcome` (default Succeeded); Pending until then. */
  finishesAtMs: number;
  outcome?: ActionStatus;
  requestor?: string;
  scope?: 'Quick' | 'Full';
}

/**
 * Adds actions without API calls, for tests that need 100,000 of them. Each action gets the
 * same evidence plan as one requested through the API.
 */
export function addRecordedActions(
  ctx: SimContext,
  specs: readonly RecordedActionSpec[],
): StoredAction[] {
  return specs.map((spec) => {
    const machine = ctx.machines.get(spec.machineId);
    if (!machine) throw new Error(`addActions: no device ${spec.machineId} in the fleet`);
    const outcome = spec.outcome ?? 'Succeeded';
    const action = ctx.actions.add({
      id: ctx.random.ids.guid(),
      machine,
      requestor: spec.requestor ?? ctx.opts.clientId,
      comment: spec.comment,
      scope: spec.scope ?? 'Quick',
      requestSource: 'PublicApi',
      createdMs: spec.createdMs,
      transitions: [{ atMs: spec.finishesAtMs, status: outcome }],
    });
    action.evidence =
      outcome === 'Succeeded'
        ? planEvidence(ctx.random.evidence, ctx.opts.evidence, spec.finishesAtMs)
        : null;
    return action;
  });
}
