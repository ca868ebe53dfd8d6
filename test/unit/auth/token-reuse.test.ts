import { describe, expect, it } from 'vitest';
import { renewAt, reusable } from '../../../src/auth/token-reuse.js';

const MIN = 60_000;

describe('token reuse', () => {
  it.each([
    ['a one-hour token', 60 * MIN, 55 * MIN],
    ['a ten-minute token', 10 * MIN, 7.5 * MIN],
    ["a four-minute token (inside MSAL's 5-minute margin)", 4 * MIN, 3 * MIN],
    ['a five-second token', 5_000, 3_750],
  ])('renews %s after %i ms of life at %i ms', (_label, lifetime, renewAfter) => {
    expect(renewAt({ token: 't', acquiredAt: 0, expiresOn: lifetime })).toBe(renewAfter);
  });

  it('serves the held token until its renewal time, then nothing', () => {
    const held = { token: 'abc', acquiredAt: 1_000, expiresOn: 9_000 };
    expect(reusable(held, 1_000)).toBe('abc');
    expect(reusable(held, 6_999)).toBe('abc');
    expect(reusable(held, 7_000)).toBeUndefined();
    expect(reusable(undefined, 0)).toBeUndefined();
  });

  it('never reuses a token that came without an expiry', () => {
    expect(reusable({ token: 'x', acquiredAt: 5, expiresOn: 5 }, 5)).toBeUndefined();
  });
});
