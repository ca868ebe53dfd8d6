import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import { isArchivable, retentionVerdict } from '../../../src/retention/retention-verdict.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;
const KEEP = 30 * DAY;

type Shape = Pick<Campaign, 'state' | 'finishedAt' | 'intakeOpen'>;

describe('retentionVerdict', () => {
  it.each<[string, Shape, number | null, string]>([
    ['finished past keep', { state: 'finished', finishedAt: NOW - KEEP }, null, 'archive'],
    ['finished long ago', { state: 'finished', finishedAt: 1 }, null, 'archive'],
    [
      'finished a minute short of keep',
      { state: 'finished', finishedAt: NOW - KEEP + 60_000 },
      null,
      'too-recent',
    ],
    [
      'finished but reopened by a re-run',
      { state: 'finished', finishedAt: 1, intakeOpen: true },
      null,
      'not-ended',
    ],
    ['running', { state: 'running', finishedAt: null }, null, 'not-ended'],
    ['paused for months', { state: 'paused', finishedAt: null }, null, 'not-ended'],
    ['cancelled, never seen before', { state: 'cancelled', finishedAt: null }, null, 'not-ended'],
    ['cancelled, seen past keep', { state: 'cancelled', finishedAt: null }, NOW - KEEP, 'archive'],
    ['cancelled, seen recently', { state: 'cancelled', finishedAt: null }, NOW - DAY, 'too-recent'],
    [
      'cancelled with a recorded end',
      { state: 'cancelled', finishedAt: NOW - KEEP - 1 },
      NOW,
      'archive',
    ],
  ])('%s: %s', (_title, campaign, seen, expected) => {
    const verdict = retentionVerdict(campaign, { now: NOW, keepMs: KEEP, cancelledSeenAt: seen });
    expect(verdict.action === 'archive' ? 'archive' : verdict.reason).toBe(expected);
  });

  it.each<[Shape['state'], boolean | undefined, boolean]>([
    ['finished', undefined, true],
    ['finished', true, false],
    ['cancelled', undefined, true],
    ['running', undefined, false],
    ['paused', undefined, false],
  ])('%s (intake open: %s) is archivable on demand: %s', (state, intakeOpen, expected) => {
    expect(isArchivable({ state, ...(intakeOpen === undefined ? {} : { intakeOpen }) })).toBe(
      expected,
    );
  });
});
