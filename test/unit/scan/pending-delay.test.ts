import { describe, expect, it } from 'vitest';
import { decidePending } from '../../../src/scan/pending-delay.js';

const policy = { pendingRetry: 1_000, pendingRetryCap: 8_000, pendingMaxWait: 60_000 };

describe('decidePending', () => {
  it('waits pendingRetry after the first busy answer', () => {
    expect(decidePending(policy, null, 5_000, 0)).toEqual({
      kind: 'retry',
      until: 6_000,
      firstBusyAt: 5_000,
    });
  });

  it.each([
    [1_000, 1_000],
    [2_000, 2_000],
    [4_000, 4_000],
    [8_000, 8_000],
    [30_000, 8_000],
  ])('waits as long as already waited (%i ms so far → %i ms), up to the cap', (waited, delay) => {
    const decision = decidePending(policy, 0, waited, 0);
    expect(decision).toEqual({ kind: 'retry', until: waited + delay, firstBusyAt: 0 });
  });

  it('spreads retries by up to 10 % and never past the cap', () => {
    expect(decidePending(policy, 0, 2_000, 1)).toMatchObject({ until: 2_000 + 2_200 });
    expect(decidePending(policy, 0, 20_000, 1)).toMatchObject({ until: 28_000 });
  });

  it('pulls the last retry in to the deadline', () => {
    expect(decidePending(policy, 0, 55_000, 0)).toMatchObject({ until: 60_000 });
  });

  it('times out at pendingMaxWait after the first busy answer', () => {
    expect(decidePending(policy, 0, 60_000, 0)).toEqual({ kind: 'timeout' });
  });
});
