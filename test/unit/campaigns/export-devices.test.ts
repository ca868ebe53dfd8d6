import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../../src/campaigns/campaign.js';
import {
  csvCell,
  exportDevices,
  type ExportFormat,
} from '../../../src/campaigns/export-devices.js';

const NO_THREATS = {
  count: 0,
  names: [],
  unremediated: 0,
  files: [],
  alerts: 0,
  alertTitles: [],
  firstAt: null,
};

const device = (over: Partial<DeviceRecord>): DeviceRecord => ({
  machineId: 'a'.repeat(40),
  state: 'requested',
  machineActionId: '7f1c2a3b-0000-4000-8000-000000000001',
  actionStatus: 'Pending',
  reason: null,
  attempts: 1,
  requestedAt: Date.UTC(2026, 10, 23, 11, 0, 0),
  joinedExisting: false,
  sentAt: 1,
  deferredUntil: null,
  firstBusyAt: null,
  ...over,
});

async function* from(devices: DeviceRecord[]): AsyncIterable<DeviceRecord> {
  for (const d of devices) yield await Promise.resolve(d);
}

async function text(devices: DeviceRecord[], format: ExportFormat): Promise<string> {
  let out = '';
  for await (const chunk of exportDevices(from(devices), format)) out += chunk;
  return out;
}

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
  ])('writes %j as %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('writes null as an empty cell and numbers and booleans as they are', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(3)).toBe('3');
    expect(csvCell(false)).toBe('false');
  });
});

describe('exportDevices', () => {
  const devices = [
    device({}),
    device({
      machineId: 'b'.repeat(40),
      state: 'failed',
      machineActionId: null,
      actionStatus: null,
      reason: '=cmd|" /C calc"!A0, from the API',
      requestedAt: null,
      attempts: 0,
    }),
  ];

  it('writes one CSV row per device under the fixed header', async () => {
    const lines = (await text(devices, 'csv')).split('\r\n');
    expect(lines[0]).toBe(
      'machineId,state,machineActionId,actionStatus,reason,attempts,requestedAt,joinedExisting,' +
        'actionUpdatedAt,cancelResult,scanResult,scanCompletedAt,scanType,hostname,nextAttemptAt,' +
        'threats,threatNames,unremediated,threatFiles,alerts,alertTitles',
    );
    expect(lines[1]).toBe(
      `${'a'.repeat(40)},requested,7f1c2a3b-0000-4000-8000-000000000001,Pending,,1,2026-11-23T11:00:00.000Z,false,,,,,,,,,,,,,`,
    );
    expect(lines[2]).toBe(
      `${'b'.repeat(40)},failed,,,"'=cmd|"" /C calc""!A0, from the API",0,,false,,,,,,,,,,,,,`,
    );
    expect(lines).toHaveLength(4);
  });

  it('writes JSON as one array and NDJSON as one object a line', async () => {
    const json = JSON.parse(await text(devices, 'json')) as Record<string, unknown>[];
    expect(json).toHaveLength(2);
    expect(json[1]).toMatchObject({ state: 'failed', reason: '=cmd|" /C calc"!A0, from the API' });
    expect(Object.keys(json[0] ?? {})).toEqual([
      'machineId', 'state', 'machineActionId', 'actionStatus', 'reason', 'attempts', 'requestedAt', 'joinedExisting',
      'actionUpdatedAt', 'cancelResult', 'scanResult', 'scanCompletedAt', 'scanType', 'hostname', 'nextAttemptAt',
      'threats', 'threatNames', 'unremediated', 'threatFiles', 'alerts', 'alertTitles',
    ]); // prettier-ignore
    const ndjson = (await text(devices, 'ndjson')).trimEnd().split('\n');
    expect(ndjson.map((l) => (JSON.parse(l) as { machineId: string }).machineId)).toEqual([
      'a'.repeat(40),
      'b'.repeat(40),
    ]);
    expect(JSON.parse(await text([], 'json'))).toEqual([]);
  });

  it("gives a deferred device's next attempt, and none once it left the wait", async () => {
    const until = Date.UTC(2026, 10, 23, 11, 4, 20);
    const busy = device({ machineId: 'c'.repeat(40), state: 'deferred', deferredUntil: until });
    const [row] = JSON.parse(await text([busy], 'json')) as { nextAttemptAt: string | null }[];
    expect(row?.nextAttemptAt).toBe('2026-11-23T11:04:20.000Z');
    const sent = device({ machineId: 'c'.repeat(40), state: 'requested', deferredUntil: until });
    const [done] = JSON.parse(await text([sent], 'json')) as { nextAttemptAt: string | null }[];
    expect(done?.nextAttemptAt).toBeNull();
  });

  it('gives what the scan found: counts and names once verified, empty before', async () => {
    const found = device({
      machineId: 'd'.repeat(40),
      scanResult: 'completed',
      threats: {
        count: 2,
        names: ['HackTool:Win32/Mimikatz.D', 'Trojan:Win32/Wacatac.B!ml'],
        unremediated: 1,
        files: ['C:\\Temp\\m.exe', 'C:\\Temp\\x.exe'],
        alerts: 1,
        alertTitles: ["An active 'Mimikatz' malware was detected"],
        firstAt: '2026-11-23T11:02:00.000Z',
      },
    });
    const clean = device({ machineId: 'e'.repeat(40), threats: { ...NO_THREATS } });
    const lines = (await text([found, clean, devices[0] ?? found], 'csv')).split('\r\n');
    expect(lines[1]).toMatch(
      /,2,HackTool:Win32\/Mimikatz\.D; Trojan:Win32\/Wacatac\.B!ml,1,C:\\Temp\\m\.exe; C:\\Temp\\x\.exe,1,An active 'Mimikatz' malware was detected$/,
    );
    expect(lines[2]).toMatch(/,0,,0,,0,$/);
    expect(lines[3]).toMatch(/,,,,,,$/);
  });
});
