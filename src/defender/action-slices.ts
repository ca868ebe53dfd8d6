import { DefenderError } from './errors.js';
import type { MachineAction } from './machine-action.js';
import { toMachineAction } from './normalize.js';
import type { MachineActionFilter } from './odata.js';
import type { Pager } from './paging.js';

/** A creation-time range `[since, before)` in ms; `crowded`: one millisecond, read by `$skip`. */
export interface Slice {
  since: number | undefined;
  before: number | undefined;
  crowded?: true;
}

export interface ActionSliceDeps {
  pager: Pager;
  pageSize: number;
  /** The List MachineActions URL of `filter` with `$top` and `$skip`. */
  urlFor(filter: MachineActionFilter, top: number, skip: number): URL;
}

const ms = (value: Date | string | number | undefined): number | undefined =>
  value === undefined ? undefined : new Date(value).getTime();

/**
 * Lists machine actions slice by slice of `creationDateTimeUtc`, each slice ONE call with
 * `$top`, so no read depends on `$skip` over a list that grows at its head while it is read.
 *
 * Why no action is missed: a slice whose answer is short holds its whole range (`$top` caps the
 * answer, nothing else does). A full answer is narrowed: when it comes newest first (the API's
 * documented "latest" order, checked on every answer), it holds every action newer than its
 * oldest one, so the rest is `[since, oldest + 1 ms)`: the oldest millisecond is read again, so
 * actions that share it are not lost at the cut. An answer in any other order is bisected at
 * its median time instead, which needs no order at all. Actions created while a pass runs are
 * newer than every slice after the first, so they never shift what a later slice reads; the
 * next pass sees them. Only a millisecond holding a whole answer by itself is paged with `$skip`
 * (a closed past range, which no longer grows). Each id is yielded once.
 */
export async function* actionsBySlices(
  deps: ActionSliceDeps,
  filter: MachineActionFilter,
  signal?: AbortSignal,
): AsyncGenerator<MachineAction> {
  const seen = new Set<string>();
  const slices: Slice[] = [{ since: ms(filter.createdSince), before: ms(filter.createdBefore) }];
  for (let slice = slices.pop(); slice; slice = slices.pop()) {
    const sliceFilter = { ...filter, createdSince: slice.since, createdBefore: slice.before };
    if (slice.crowded) {
      const url = (top: number, skip: number) => deps.urlFor(sliceFilter, top, skip);
      yield* deps.pager.bySkip('machineActions', url, toMachineAction, seen, signal);
      continue;
    }
    const url = deps.urlFor(sliceFilter, deps.pageSize, 0);
    const page = await deps.pager.answer('machineActions', url, signal);
    const actions = [...deps.pager.convertAll(page.items, toMachineAction, 'machineActions')];
    for (const action of actions) {
      if (seen.has(action.id)) continue;
      seen.add(action.id);
      yield action;
    }
    if (page.items.length < deps.pageSize) continue;
    slices.push(...narrower(slice, actions.map(createdMs)));
  }
}

function createdMs(action: MachineAction): number {
  const value = Date.parse(action.creationDateTimeUtc);
  if (Number.isNaN(value)) {
    throw new DefenderError({
      status: 200,
      code: 'InvalidResponse',
      retry: 'backoff',
      message: `Action ${action.id} has no readable creationDateTimeUtc`,
    });
  }
  return value;
}

/** The slices that cover what a full answer of `slice` (with these creation times) may have left. */
export function narrower(slice: Slice, times: readonly number[]): Slice[] {
  const oldest = Math.min(...times);
  const newest = Math.max(...times);
  const newestFirst = times.every((t, i) => i === 0 || t <= (times[i - 1] ?? t));
  const { since, before } = slice;
  const below = since === undefined || since < oldest ? [{ since, before: oldest }] : [];
  if (newestFirst) {
    // A whole answer inside its slice's last millisecond: read that millisecond by $skip.
    if (before !== undefined && oldest + 1 >= before) {
      return [...below, { since: oldest, before: oldest + 1, crowded: true }];
    }
    return [{ since, before: oldest + 1 }];
  }
  // Out of order means two times differ, so the median cut leaves something on either side.
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? newest;
  const mid = median > oldest ? median : oldest + 1;
  return [
    { since, before: mid },
    { since: mid, before },
  ];
}
