import type { Clock } from './clock.js';

export interface GuessThrottle {
  /** ms until `keys` may make another guess; 0 when every key is under its limit. */
  waitMs(keys: readonly string[]): number;
  /** Counts a failed guess against every key. */
  fail(keys: readonly string[]): void;
}

/**
 * A bound on failed credential checks: at most `perWindow` failures per key (a client address,
 * a user name) in any `windowMs`. A key at its limit is answered 429 without its credentials
 * being checked at all, so a guesser gets no more than `perWindow` answers per window whatever
 * it sends, while a client that authenticates never counts. In memory, per process: the state is
 * a few timestamps per key, and the oldest keys go first once `maxKeys` are held.
 */
export function createGuessThrottle(options: {
  perWindow: number;
  windowMs: number;
  clock: Clock;
  maxKeys?: number;
}): GuessThrottle {
  const { perWindow, windowMs, clock } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => {
    const list = (failures.get(key) ?? []).filter((at) => now - at < windowMs);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  return {
    waitMs(keys) {
      const now = clock.now();
      let wait = 0;
      for (const key of keys) {
        const list = recent(key, now);
        const oldest = list[list.length - perWindow];
        if (list.length >= perWindow && oldest !== undefined) {
          wait = Math.max(wait, oldest + windowMs - now);
        }
      }
      return wait;
    },
    fail(keys) {
      const now = clock.now();
      for (const key of keys) {
        const list = recent(key, now);
        list.push(now);
        failures.delete(key);
        failures.set(key, list.slice(-perWindow));
        if (failures.size > maxKeys) {
          const first = failures.keys().next();
          if (!first.done) failures.delete(first.value);
        }
      }
    },
  };
}
