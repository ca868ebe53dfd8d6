import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves at the `performance.now()` moment `at`, not before, and within a fraction of a ms
 * after: a timer takes it to the last whole ms (timers fire up to a ms late, and Node's may fire
 * a little early by `performance.now()`), then the event loop's turns close the rest. The turns
 * let other work run, so waiting this way costs at most a ms of polling, never the loop.
 */
export async function waitUntil(at: number): Promise<void> {
  let left = at - performance.now();
  if (left > 1) {
    await sleep(Math.floor(left - 1));
    left = at - performance.now();
  }
  while (left > 0) {
    // A timer may still be running late on a busy loop: sleep again rather than spin on it.
    if (left > 1) await sleep(Math.floor(left - 1));
    else await nextTurn();
    left = at - performance.now();
  }
}
