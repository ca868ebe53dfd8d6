import type { Redis } from '../shared/redis.js';
import type { Logger } from '../shared/logger.js';
import type { BudgetLane, LaneEnd, LaneGrant } from './budget-lane.js';
import { laneMember, wakeChannel } from './lane-keys.js';

export interface DispatcherDeps {
  lanes: readonly BudgetLane[];
  /** One device's turn; resolves to where it goes in its lane. Should not reject. */
  process(grant: LaneGrant, lane: BudgetLane): Promise<LaneEnd>;
  /** A connection of its own for SUBSCRIBE (one per process, whatever the number of budgets). */
  subscriber: Redis;
  prefix: string;
  /** Devices in progress at once in this process, over every budget. */
  concurrency: number;
  log: Logger;
  /** Re-check of a budget with nothing waiting, in case a wake-up was missed. Default 30 s. */
  idleCheckMs?: number;
  /**
   * How early a slot is granted before it opens (default 20 ms): the device's turn reads and
   * marks it meanwhile and calls the moment the slot opens, so those round trips are not paid
   * after the opening. The slot is in flight from the grant, which only holds it from others.
   */
  lookaheadMs?: number;
}

/**
 * A turn's reads (campaign, device, markSent) on a quiet host. Not more: a slot granted ahead
 * is sent even if a 429 paused the budget meanwhile, so a longer lookahead commits more calls
 * into a window the server may already refuse (issue 17's lowered caps).
 */
const DEFAULT_LOOKAHEAD_MS = 20;

export interface Dispatcher {
  /** Devices in progress now. */
  inProgress(): number;
  /** Takes no new devices, lets those in progress finish and be recorded. */
  close(): Promise<void>;
}

interface BudgetState {
  lane: BudgetLane;
  timer: NodeJS.Timeout | undefined;
  queued: boolean;
  asking: boolean;
  /** A wake-up came while asking: ask again, the answer may be stale. */
  again: boolean;
  members: Set<string>;
}

/**
 * The per-process dispatcher (docs/design.md "Lanes"): for every budget, asks dispatch-n.lua
 * for a device and its slot; when none may go, sleeps exactly the wait it was told (a timer,
 * not polling) or until a wake-up on the channel (new work, a resume). One pool of
 * `concurrency` turns serves every budget; budgets take turns for free places.
 */
export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const { log } = deps;
  const idleCheckMs = deps.idleCheckMs ?? 30_000;
  const lookaheadMs = deps.lookaheadMs ?? DEFAULT_LOOKAHEAD_MS;
  const states = new Map<string, BudgetState>();
  for (const lane of deps.lanes) {
    states.set(lane.tag, {
      lane,
      timer: undefined,
      queued: false,
      asking: false,
      again: false,
      members: new Set(),
    });
  }
  const wanted: BudgetState[] = [];
  const running = new Set<Promise<void>>();
  let free = deps.concurrency;
  let closed = false;

  const want = (state: BudgetState) => {
    if (closed) return;
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    if (state.asking) {
      state.again = true;
      return;
    }
    if (!state.queued) {
      state.queued = true;
      wanted.push(state);
    }
    pump();
  };

  const schedule = (state: BudgetState, waitMs: number) => {
    if (closed) return;
    if (state.timer) clearTimeout(state.timer);
    const ms = waitMs < 0 ? idleCheckMs : waitMs;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      want(state);
    }, ms);
  };

  const pump = () => {
    while (!closed && free > 0 && wanted.length > 0) {
      const state = wanted.shift() as BudgetState;
      state.queued = false;
      free--;
      state.asking = true;
      track(ask(state));
    }
  };

  const ask = async (state: BudgetState) => {
    // This ask holds one place; it may fill every other free place in the same step (the
    // first burst of a window leaves at once, not one round trip after another).
    const extra = free;
    free -= extra;
    let result;
    try {
      result = await state.lane.dispatch(1 + extra, lookaheadMs);
    } catch (error) {
      state.asking = false;
      free += 1 + extra;
      log.warn({ budget: state.lane.budgetId, reason: String(error) }, 'dispatch failed');
      schedule(state, 1_000);
      pump();
      return;
    }
    state.asking = false;
    const again = state.again;
    state.again = false;
    if (!result.grant) {
      free += 1 + extra;
      if (again) want(state);
      // A slot wait longer than the lookahead: ask again when it is the lookahead away. (A wait
      // within it is for a due device, a lease or the probe limit: no grant comes earlier.)
      else
        schedule(state, result.waitMs > lookaheadMs ? result.waitMs - lookaheadMs : result.waitMs);
      pump();
      return;
    }
    free += 1 + extra - result.grants.length;
    // There may be more room at once: ask again as soon as a place is free.
    want(state);
    for (const grant of result.grants) track(run(state, grant));
  };

  const track = (work: Promise<void>) => {
    running.add(work);
    void work.finally(() => running.delete(work));
  };

  const run = async (state: BudgetState, grant: LaneGrant) => {
    const member = laneMember(grant.campaignId, grant.machineId);
    state.members.add(member);
    let end: LaneEnd;
    try {
      end = closed ? { kind: 'hold' } : await deps.process(grant, state.lane);
    } catch (error) {
      log.warn({ member, reason: String(error) }, 'device turn failed');
      end = { kind: 'due', at: Date.now() + 1_000, attempt: true };
    } finally {
      if (closed && grant.permit.state === 'held') await grant.permit.release();
    }
    // The place is free once the turn is recorded: the lane's finish needs none (the device
    // stays leased until it lands), so the next dispatch goes out with it, not after it.
    free++;
    want(state);
    pump();
    try {
      await state.lane.finish(grant.campaignId, grant.machineId, end);
    } catch (error) {
      // The lease runs out and dispatch gives the device back; its marker leads to a lookup.
      log.warn({ member, reason: String(error) }, 'could not end a device turn');
    }
    state.members.delete(member);
    // A device put back (due later, held) was still leased when the place was freed: the ask
    // made then could not see it, so its wait is asked for now, or it waits for the idle check.
    if (end.kind !== 'done') want(state);
  };

  const renewal = setInterval(
    () => {
      for (const state of states.values()) {
        if (state.members.size === 0) continue;
        state.lane.renew([...state.members]).catch((error: unknown) => {
          log.warn({ budget: state.lane.budgetId, reason: String(error) }, 'lease renewal failed');
        });
      }
    },
    // Every third of the shortest lease: a live process never loses a device it works on.
    Math.max(50, Math.floor(Math.min(...deps.lanes.map((l) => l.deviceLeaseMs), 30_000) / 3)),
  );

  const channel = wakeChannel(deps.prefix);
  const onMessage = (from: string, tag: string) => {
    if (from !== channel) return;
    const state = states.get(tag);
    if (state) want(state);
  };
  // After a reconnect a wake-up may have been missed: look at every budget again.
  const onReady = () => {
    for (const state of states.values()) want(state);
  };
  deps.subscriber.on('message', onMessage);
  deps.subscriber.on('ready', onReady);
  void deps.subscriber.subscribe(channel).catch((error: unknown) => {
    log.warn({ reason: String(error) }, 'could not subscribe to wake-ups');
  });
  for (const state of states.values()) want(state);

  let closing: Promise<void> | undefined;
  return {
    inProgress: () => deps.concurrency - free,
    close() {
      closing ??= (async () => {
        closed = true;
        for (const state of states.values()) if (state.timer) clearTimeout(state.timer);
        deps.subscriber.off('message', onMessage);
        deps.subscriber.off('ready', onReady);
        await deps.subscriber.unsubscribe(channel).catch(() => undefined);
        while (running.size > 0) await Promise.allSettled([...running]);
        clearInterval(renewal);
      })();
      return closing;
    },
  };
}
