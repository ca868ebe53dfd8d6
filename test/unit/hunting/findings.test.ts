import { describe, expect, it } from 'vitest';
import { findingsQuery } from '../../../src/hunting/findings-query.js';
import {
  detectionPath,
  parseFindings,
  threatsIn,
  type Detection,
} from '../../../src/hunting/scan-findings.js';
import { parseHuntingQuery } from '../../../src/simulator/kql-subset.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const T = Date.parse('2026-12-07T10:00:00Z');
const at = (minutes: number) => new Date(T + minutes * 60_000).toISOString();

function detectionRow(
  id: string,
  minutes: number,
  fields: Record<string, unknown>,
  file = 'x.exe',
) {
  return {
    SourceTable: 'DeviceEvents',
    Timestamp: at(minutes),
    DeviceId: id,
    ActionType: 'AntivirusDetection',
    FileName: file,
    FolderPath: `C:\\Temp\\${file}`,
    SHA1: 'f'.repeat(40),
    AdditionalFields: JSON.stringify(fields),
    AlertId: null,
    Title: null,
  };
}

describe('findings: what the scans found', () => {
  it('asks for scan events, detections and machine alerts in one query, the ids bound once', () => {
    const query = findingsQuery(T, [A, B]);
    expect(query.match(new RegExp(A, 'g'))).toHaveLength(1);
    expect(query).toContain('"AntivirusDetection"');
    expect(query).toContain('AlertEvidence');
    // The simulator's parser (as strict as the service) takes it: both tables, the same ids.
    const parsed = parseHuntingQuery(query);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.query.sourceColumn).toBe('SourceTable');
    expect(parsed.query.tables.map((t) => [t.table, [...t.deviceIds], t.sinceMs])).toEqual([
      ['DeviceEvents', [A, B], T],
      ['AlertEvidence', [A, B], T],
    ]);
    expect(() => findingsQuery(T, [`${A}"]);`])).toThrow(/Not a device id/);
  });

  it.each([
    ['an unbound name', (q: string) => q.replace('in (ids)', 'in (others)'), /resolve scalar/],
    [
      'a table twice',
      (q: string) => q.replace('(AlertEvidence', '(DeviceEvents'),
      /ActionType|twice|Syntax/,
    ],
    ['another entity filter', (q: string) => q.replace('"Machine"', '"Mailbox"'), /Syntax error/],
    [
      'a column AlertEvidence lacks',
      (q: string) => q.replace('AlertId, Title', 'AlertId, Secret'),
      /resolve column/,
    ],
    [
      'a union without the source column',
      (q: string) => q.replace(' withsource=SourceTable', ''),
      /Syntax error/,
    ],
  ])('the simulator refuses %s', (_name, change, message) => {
    const parsed = parseHuntingQuery(change(findingsQuery(T, [A])));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });

  it('reads detections and alerts from the union rows, skipping scan events and broken rows', () => {
    const rows = [
      detectionRow(A, 1, { ThreatName: 'Trojan:Win32/Wacatac.B!ml', WasRemediated: true }),
      detectionRow(A, 2, { ThreatName: 'HackTool:Win32/Mimikatz.D', WasRemediated: 'false' }),
      { ...detectionRow(B, 3, {}), AdditionalFields: 'not json' },
      {
        SourceTable: 'DeviceEvents',
        Timestamp: at(4),
        DeviceId: A,
        ActionType: 'AntivirusScanCompleted',
      },
      {
        SourceTable: 'AlertEvidence',
        Timestamp: at(5),
        DeviceId: A.toUpperCase(),
        AlertId: 'da1_-1',
        Title: 'An active malware',
      },
      {
        SourceTable: 'AlertEvidence',
        Timestamp: 'yesterday',
        DeviceId: A,
        AlertId: 'da2_-2',
        Title: 'x',
      },
    ];
    const { detections, alerts } = parseFindings(rows);
    expect(detections.map((d) => [d.deviceId, d.threatName, d.remediated])).toEqual([
      [A, 'Trojan:Win32/Wacatac.B!ml', true],
      [A, 'HackTool:Win32/Mimikatz.D', false],
      // A row that does not say what it found still counts, and not as remediated.
      [B, '(unnamed threat)', null],
    ]);
    expect(alerts).toEqual([
      { deviceId: A, atMs: T + 5 * 60_000, alertId: 'da1_-1', title: 'An active malware' },
    ]);
  });

  it('counts only what happened from the request to the scan end plus the grace, an alert once', () => {
    const d = (minutes: number, name: string, remediated: boolean | null): Detection => ({
      deviceId: A,
      atMs: T + minutes * 60_000,
      threatName: name,
      fileName: 'x.exe',
      folderPath: `C:\\Temp`,
      remediated,
    });
    const alert = (minutes: number, alertId: string) => ({
      deviceId: A,
      atMs: T + minutes * 60_000,
      alertId,
      title: `alert ${alertId}`,
    });
    const threats = threatsIn(
      [
        d(-1, 'Before', false),
        d(0, 'B', true),
        d(5, 'A', null),
        d(5, 'A', true),
        d(31, 'After', false),
      ],
      [alert(-2, 'old'), alert(6, 'new'), alert(7, 'new'), alert(30, 'edge')],
      T,
      T + 30 * 60_000,
    );
    expect(threats).toEqual({
      count: 3,
      names: ['A', 'B'],
      unremediated: 1,
      files: ['C:\\Temp\\x.exe'],
      alerts: 2,
      alertTitles: ['alert edge', 'alert new'],
      firstAt: new Date(T).toISOString(),
    });
    expect(threatsIn([], [], T, T + 1)).toMatchObject({ count: 0, alerts: 0, firstAt: null });
  });

  it.each([
    ['a folder and a file', 'C:\\Temp', 'x.exe', 'C:\\Temp\\x.exe'],
    ['a whole path in FolderPath', 'C:\\Temp\\x.exe', 'x.exe', 'C:\\Temp\\x.exe'],
    ['a Linux folder with a trailing slash', '/tmp/', 'x', '/tmp/x'],
    ['no folder', '', 'x.exe', 'x.exe'],
  ])('joins %s once', (_name, folderPath, fileName, expected) => {
    expect(detectionPath({ folderPath, fileName })).toBe(expected);
  });
});
