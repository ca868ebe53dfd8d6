import { describe, expect, it } from 'vitest';
import type { Campaign, DeviceRecord } from '../../../src/campaigns/campaign.js';
import { cancelDecision } from '../../../src/control/cancel-decision.js';
import { campaignIdOfComment } from '../../../src/tracking/action-tag.js';
import { shareWindows } from '../../../src/tracking/share-gate.js';
import { isSettled, trackingVerdict } from '../../../src/tracking/tracking-plan.js';

const ID = 'c-abcdefghij12';
const DAY = 86_400_000;

describe('the campaign tag of an action', () => {
  it.each([
    [`weekly [fleetscan:${ID}]`, ID],
    [`[fleetscan:${ID}]`, null], // the pipeline always puts a space before it
    [`weekly [fleetscan:${ID}] `, null],
    [`copy of [fleetscan:${ID}] by hand`, null],
    [`x [fleetscan:${ID}x]`, null],
    [`x [fleetscan:C-ABCDEFGHIJ12]`, null],
    [null, null],
  ])('%j belongs to %j', (comment, expected) => {
    expect(campaignIdOfComment(comment)).toBe(expected);
  });
});

describe('tracking decisions', () => {
  const none = { settledAt: null, trackingEndedAt: null };
  it.each([
    [none, 0, 'track'],
    [none, 7 * DAY - 1, 'track'],
    [none, 7 * DAY, 'horizon'],
    [{ settledAt: 5, trackingEndedAt: null }, 1, 'done'],
    [{ settledAt: null, trackingEndedAt: 5 }, 1, 'done'],
  ] as const)('%j at age %i is %s', (lifecycle, age, verdict) => {
    expect(trackingVerdict({ createdAt: 1_000 }, lifecycle, 1_000 + age, 7 * DAY)).toBe(verdict);
  });

  const counts = (queued = 0, deferred = 0): Campaign['counts'] => ({
    queued,
    deferred,
    requested: 5,
    failed: 0,
    cancelled: 0,
  });
  it.each([
    ['finished, all terminal', 'finished', false, counts(), 0, true],
    ['cancelled, all terminal', 'cancelled', false, counts(), 0, true],
    ['finished, one open', 'finished', false, counts(), 1, false],
    ['running', 'running', false, counts(), 0, false],
    ['paused', 'paused', false, counts(), 0, false],
    ['intake still open', 'finished', true, counts(), 0, false],
    ['a device still deferred', 'cancelled', false, counts(0, 1), 0, false],
  ] as const)('%s: settled %s', (_name, state, intakeOpen, c, open, expected) => {
    expect(isSettled({ state, intakeOpen, counts: c }, open)).toBe(expected);
  });

  it('gives the tracker its share of every window, at least one call', () => {
    expect(
      shareWindows(
        [
          { cap: 100, windowMs: 60_000 },
          { cap: 1500, windowMs: 3_600_000 },
        ],
        0.1,
      ),
    ).toEqual([
      { cap: 10, windowMs: 60_000 },
      { cap: 150, windowMs: 3_600_000 },
    ]);
    expect(shareWindows([{ cap: 5, windowMs: 1_000 }], 0.1)).toEqual([{ cap: 1, windowMs: 1_000 }]);
  });
});

describe('the kill switch decision', () => {
  const device = (over: Partial<DeviceRecord>): DeviceRecord => ({
    machineId: 'a'.repeat(40),
    state: 'requested',
    machineActionId: 'act',
    actionStatus: 'Pending',
    reason: null,
    attempts: 1,
    requestedAt: 1,
    joinedExisting: false,
    sentAt: 1,
    deferredUntil: null,
    firstBusyAt: null,
    ...over,
  });
  it.each([
    [{}, 'cancel'],
    [{ actionStatus: 'InProgress' }, 'cancel'],
    [{ actionStatus: null }, 'cancel'],
    [{ cancelResult: 'refused' as const }, 'cancel'],
    [{ joinedExisting: true }, 'joined'],
    [{ actionStatus: 'Succeeded' }, 'already-final'],
    [{ actionStatus: 'Cancelled' }, 'already-final'],
    [{ cancelResult: 'cancelled' as const }, 'done'],
    [{ cancelResult: 'already-final' as const }, 'done'],
    [{ state: 'queued' as const, machineActionId: null }, 'not-requested'],
    [{ state: 'failed' as const }, 'not-requested'],
  ])('%j: %s', (over, expected) => {
    expect(cancelDecision(device(over))).toBe(expected);
  });
});
