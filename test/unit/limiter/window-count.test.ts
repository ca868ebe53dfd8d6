import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  maxInAnyWindow,
  maxOverlappingInAnyWindow,
  type CallInterval,
} from '../../helpers/window-count.js';

/** The definition, spelled out: try every integer span start. */
function bruteForce(calls: readonly CallInterval[], windowMs: number): number {
  let best = 0;
  const lowest = Math.min(...calls.map((call) => call.start)) - windowMs;
  const highest = Math.max(...calls.map((call) => call.end));
  for (let t = lowest; t <= highest; t++) {
    best = Math.max(best, calls.filter((c) => c.end >= t && c.start < t + windowMs).length);
  }
  return best;
}

const intervals = fc.array(
  fc
    .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 40 }))
    .map(([start, length]) => ({ start, end: start + length })),
  { minLength: 1, maxLength: 25 },
);

describe('maxInAnyWindow', () => {
  it('counts a span as half-open', () => {
    expect(maxInAnyWindow([0, 599, 600], 600)).toBe(2);
    expect(maxInAnyWindow([0, 1, 599], 600)).toBe(3);
  });

  it('is 0 for an empty log', () => {
    expect(maxInAnyWindow([], 600)).toBe(0);
  });

  it('agrees with trying every span', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 })),
        fc.integer({ min: 1, max: 100 }),
        (times, windowMs) => {
          const sorted = [...times].sort((a, b) => a - b);
          const expected =
            times.length === 0
              ? 0
              : bruteForce(
                  sorted.map((t) => ({ start: t, end: t })),
                  windowMs,
                );
          expect(maxInAnyWindow(sorted, windowMs)).toBe(expected);
        },
      ),
    );
  });
});

describe('maxOverlappingInAnyWindow', () => {
  it('counts a call whose interval touches the span', () => {
    const calls = [
      { start: 0, end: 100 },
      { start: 650, end: 660 },
    ];
    expect(maxOverlappingInAnyWindow(calls, 600)).toBe(2);
    expect(maxOverlappingInAnyWindow(calls, 550)).toBe(1);
  });

  it('agrees with trying every span', () => {
    fc.assert(
      fc.property(intervals, fc.integer({ min: 1, max: 120 }), (calls, windowMs) => {
        expect(maxOverlappingInAnyWindow(calls, windowMs)).toBe(bruteForce(calls, windowMs));
      }),
    );
  });
});
