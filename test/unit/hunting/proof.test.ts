import { describe, expect, it } from 'vitest';
import { resolveGraph } from '../../../src/hunting/graph-clouds.js';
import { classifyHunting, huntingPauseMs } from '../../../src/hunting/hunting-error.js';
import { scanEvidenceQuery, timespanSince } from '../../../src/hunting/scan-evidence-query.js';
import { parseScanEvents, proofFor } from '../../../src/hunting/scan-proof.js';
import { durationFloorMs } from '../../../src/reports/report-data.js';

const A = 'a'.repeat(40);
const T = Date.parse('2026-12-01T10:00:00Z');

describe('proof of completion', () => {
  const row = (at: string, type: string, fields: unknown) => ({
    Timestamp: at, DeviceId: A, ActionType: type, AdditionalFields: fields,
  }); // prettier-ignore
  const events = parseScanEvents([
    row('2026-12-01T09:00:00Z', 'AntivirusScanCompleted', '{"ScanTypeIndex":3,"ScanParametersIndex":1,"ScanId":"{S0}"}'),
    { ...row('2026-12-01T10:20:00.1234567Z', 'AntivirusScanCancelled', { ScanTypeIndex: 3, ScanParametersIndex: 1, ScanId: '{S1}' }), DeviceId: A.toUpperCase() },
    row('2026-12-01T10:30:00Z', 'AntivirusScanCompleted', '{"ScanTypeIndex":3,"ScanParametersIndex":2,"ScanId":"{S2}"}'),
    row('2026-12-01T10:40:00Z', 'AntivirusScanCompleted', '{"ScanTypeIndex":3,"ScanParametersIndex":1,"ScanId":"{S3}"}'),
    row('not a time', 'AntivirusScanCompleted', '{}'),
    row('2026-12-01T10:30:00Z', 'ProcessCreated', '{}'),
  ]); // prettier-ignore

  it('reads the scan kind from ScanParametersIndex, not ScanTypeIndex (the engine)', () => {
    expect(events.map((e) => [e.deviceId, e.actionType, e.scanType, e.scanId])).toEqual([
      [A, 'AntivirusScanCompleted', 'Quick', '{s0}'],
      [A, 'AntivirusScanCancelled', 'Quick', '{s1}'],
      [A, 'AntivirusScanCompleted', 'Full', '{s2}'],
      [A, 'AntivirusScanCompleted', 'Quick', '{s3}'],
    ]);
  });

  it.each([
    [
      'a Quick delivered before two Quick scans ended is ambiguous',
      'Quick',
      T,
      'ambiguous',
      '2026-12-01T10:20:00.1234567Z',
    ],
    [
      'a Quick delivered between them takes the one after',
      'Quick',
      T + 25 * 60_000,
      'completed',
      '2026-12-01T10:40:00Z',
    ],
    ['a Full scan counts only the Full one', 'Full', T, 'completed', '2026-12-01T10:30:00Z'],
    ['nothing after delivery is no evidence', 'Quick', T + 3_600_000, 'no-evidence', null],
    [
      'a scan that ended past the Quick window is not this one',
      'Quick',
      T - 4 * 3_600_000,
      'no-evidence',
      null,
    ],
  ] as const)('%s', (_title, kind, delivered, result, at) => {
    expect(proofFor(events, kind, delivered)).toMatchObject({ result, at });
  });

  it('takes a scan whose events carry no kind as ambiguous, never as proof', () => {
    const unknown = parseScanEvents([row('2026-12-01T10:05:00Z', 'AntivirusScanCompleted', '{}')]);
    expect(proofFor(unknown, 'Quick', T)).toMatchObject({ result: 'ambiguous' });
    expect(proofFor([...unknown, ...events], 'Full', T)).toMatchObject({ result: 'ambiguous' });
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
    [undefined, 'You have exceeded processing resources allocated to this tenant.', 10 * 60_000],
    [undefined, 'Too many requests', 60_000],
    // A call-count quota is not the CPU quota: it does not wait for the 15-minute cycle.
    [undefined, 'API calls quota exceeded! maximum allowed 45 per 00:01:00', 60_000],
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
