import { describe, expect, it } from 'vitest';
import { resolveGraph } from '../../../src/hunting/graph-clouds.js';
import { classifyHunting, huntingPauseMs } from '../../../src/hunting/hunting-error.js';
import { scanEvidenceQuery, timespanSince } from '../../../src/hunting/scan-evidence-query.js';
import { parseScanEvents, proofFor } from '../../../src/hunting/scan-proof.js';
import { durationFloorMs } from '../../../src/reports/report-data.js';

const A = 'a'.repeat(40);
const T = Date.parse('2026-12-01T10:00:00Z');

describe('proof of completion', () => {
  const events = parseScanEvents([
    { Timestamp: '2026-12-01T09:00:00Z', DeviceId: A, ActionType: 'AntivirusScanCompleted', AdditionalFields: '{"ScanTypeIndex":2}' },
    { Timestamp: '2026-12-01T10:20:00.1234567Z', DeviceId: A.toUpperCase(), ActionType: 'AntivirusScanCancelled', AdditionalFields: { ScanTypeIndex: 1 } },
    { Timestamp: '2026-12-01T10:40:00Z', DeviceId: A, ActionType: 'AntivirusScanCompleted', AdditionalFields: '{}' },
    { Timestamp: 'not a time', DeviceId: A, ActionType: 'AntivirusScanCompleted' },
    { Timestamp: '2026-12-01T10:30:00Z', DeviceId: A, ActionType: 'ProcessCreated' },
  ]); // prettier-ignore

  it('reads hunting rows, skipping those that are no scan event', () => {
    expect(events.map((e) => [e.deviceId, e.actionType, e.scanType])).toEqual([
      [A, 'AntivirusScanCompleted', 'Full'],
      [A, 'AntivirusScanCancelled', 'Quick'],
      [A, 'AntivirusScanCompleted', null],
    ]);
  });

  it.each([
    [T - 2 * 3_600_000, 'completed', '2026-12-01T09:00:00Z'],
    [T, 'cancelled', '2026-12-01T10:20:00.1234567Z'],
    [T + 30 * 60_000, 'completed', '2026-12-01T10:40:00Z'],
    [T + 3_600_000, 'no-evidence', null],
  ])('an action created at %i ends %s', (created, result, at) => {
    expect(proofFor(events, created)).toMatchObject({ result, at });
  });

  it('builds the one query shape, refusing ids that are not device ids', () => {
    expect(scanEvidenceQuery(T, [A])).toBe(
      'DeviceEvents\n| where Timestamp >= datetime(2026-12-01T10:00:00.000Z)\n' +
        '| where ActionType in ("AntivirusScanCompleted", "AntivirusScanCancelled", "AntivirusScanFailed")\n' +
        `| where DeviceId in ("${A}")\n| project Timestamp, DeviceId, ActionType, AdditionalFields`,
    );
    expect(() => scanEvidenceQuery(T, [`${A}") or ("`])).toThrow(/Not a device id/);
    expect(() => scanEvidenceQuery(T, [])).toThrow(RangeError);
    expect(timespanSince(T, T + 90 * 60_000)).toBe('PT3H');
  });
});

describe('hunting budget answers', () => {
  it.each([
    [429, 'throttled'],
    [503, 'backoff'],
    [0, 'backoff'],
    [400, 'never'],
    [403, 'never'],
  ] as const)('%i is %s', (status, retry) => {
    expect(classifyHunting(status)).toBe(retry);
  });

  it.each([
    ['30', 'Too many requests', 30_000],
    [undefined, 'CPU quota exceeded', 10 * 60_000],
    [undefined, 'Too many requests', 60_000],
  ])('Retry-After %j with %j pauses %i ms', (retryAfter, message, ms) => {
    // 5 minutes into a 15-minute quota cycle.
    expect(huntingPauseMs(retryAfter, message, T + 5 * 60_000, 60_000)).toBe(ms);
  });
});

describe('clouds and floors', () => {
  it.each([
    ['commercial', 'https://graph.microsoft.com'],
    ['gcc', 'https://graph.microsoft.com'],
    ['gcc-high', 'https://graph.microsoft.us'],
    ['dod', 'https://dod-graph.microsoft.us'],
  ] as const)('%s uses %s', (cloud, host) => {
    expect(resolveGraph({ cloud })).toEqual({ graphUrl: host, scope: `${host}/.default` });
  });

  it.each([
    [0, 0],
    [1, 0],
    [100, 0],
    [101, 60_000],
    [1_500, 14 * 60_000],
    [1_501, 3_600_000],
    [3_001, 7_200_000],
  ])('%i requests take at least %i ms under 100/1m,1500/1h', (n, floor) => {
    const windows = [
      { cap: 100, windowMs: 60_000 },
      { cap: 1500, windowMs: 3_600_000 },
    ];
    expect(durationFloorMs(n, windows)).toBe(floor);
  });
});
