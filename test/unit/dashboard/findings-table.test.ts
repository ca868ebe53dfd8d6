import { describe, expect, it } from 'vitest';
import type { DeviceRecord, DeviceThreats } from '../../../src/campaigns/campaign.js';
import { findingsTable } from '../../../src/dashboard/pages/findings-table.js';

const threats = (over: Partial<DeviceThreats>): DeviceThreats => ({
  count: 1,
  names: ['Trojan:Win32/Wacatac.B!ml'],
  unremediated: 0,
  files: ['C:\\Temp\\x.exe'],
  alerts: 0,
  alertTitles: [],
  firstAt: '2026-12-07T10:00:00.000Z',
  ...over,
});

const device = (id: string, t: DeviceThreats): DeviceRecord => ({
  machineId: id.repeat(40),
  state: 'requested',
  machineActionId: 'x',
  actionStatus: 'Succeeded',
  reason: null,
  attempts: 1,
  requestedAt: 1,
  joinedExisting: false,
  sentAt: 1,
  deferredUntil: null,
  firstBusyAt: null,
  threats: t,
});

const summary = {
  devices: 2,
  detections: 4,
  unremediatedDevices: 1,
  alertedDevices: 1,
  checked: 160,
};

describe('the campaign page findings table', () => {
  it('lists the devices with detections, not remediated first, names escaped, then counts the clean ones', () => {
    const text = findingsTable('c-abcdefabcdef', summary, [
      device('a', threats({ count: 1 })),
      device('b', threats({ count: 3, unremediated: 2, names: ['<script>x</script>'], alerts: 1 })),
    ]).value;
    expect(text).toContain('2 of 160 devices with detections');
    const rows = text.split('<tr class=').slice(1);
    expect(rows[0]).toContain('b'.repeat(40));
    expect(rows[0]).toContain('2 not remediated');
    expect(rows[1]).toContain('all remediated');
    expect(text).not.toContain('<script>');
    expect(text).toContain('&lt;script&gt;');
    expect(text).toContain('Clean: 158 devices with nothing detected.');
    // The findings come before anything else the table holds: the first row is a finding.
    expect(text.indexOf('What the scans found')).toBeLessThan(text.indexOf('<table'));
  });

  it('says nothing was found, and shows nothing before a verify looked', () => {
    expect(findingsTable('c-abcdefabcdef', { ...summary, devices: 0 }, []).value).toContain(
      'No detections on any of the 160 devices checked.',
    );
    expect(findingsTable('c-abcdefabcdef', null, []).value).toBe('');
  });
});
