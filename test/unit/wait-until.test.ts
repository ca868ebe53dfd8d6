import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/shared/wait-until.js';

describe('waitUntil', () => {
  it('never resolves before the moment asked for', async () => {
    for (const ahead of [0.3, 1.5, 4.2, 12.7]) {
      const at = performance.now() + ahead;
      await waitUntil(at);
      expect(performance.now()).toBeGreaterThanOrEqual(at);
    }
  });

  it('resolves at once for a moment already past', async () => {
    const before = performance.now();
    let settled = false;
    const done = waitUntil(before - 5).then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(true);
    await done;
  });
});
