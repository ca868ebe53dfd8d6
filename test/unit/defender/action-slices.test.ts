import { describe, expect, it } from 'vitest';
import { narrower, type Slice } from '../../../src/defender/action-slices.js';

const open: Slice = { since: 1, before: undefined };

const cases: [string, Slice, number[], Slice[]][] = [
  [
    'newest first: the rest is older than the oldest, its millisecond read again',
    open,
    [9, 7, 5],
    [{ since: 1, before: 6 }],
  ],
  [
    'newest first, all in the slice’s last millisecond: that one by $skip, the rest below',
    { since: 1, before: 6 },
    [5, 5, 5],
    [
      { since: 1, before: 5 },
      { since: 5, before: 6, crowded: true },
    ],
  ],
  [
    'any other order: bisected at the median time',
    open,
    [5, 9, 7],
    [
      { since: 1, before: 7 },
      { since: 7, before: undefined },
    ],
  ],
  [
    'ties count as newest first: an open slice is cut just above them',
    open,
    [5, 5],
    [{ since: 1, before: 6 }],
  ],
];

describe('narrower (what a full List MachineActions answer leaves to read)', () => {
  it.each(cases)('%s', (_title, slice, times, expected) => {
    expect(narrower(slice, times)).toEqual(expected);
  });
});
