import { describe, expect, it } from 'vitest';
import {
  devicesOfAlerts,
  devicesOfHunting,
  EvidenceError,
} from '../../../src/hunting/evidence-devices.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const device = (mdeDeviceId: unknown, deviceDnsName = 'host') => ({
  '@odata.type': '#microsoft.graph.security.deviceEvidence',
  mdeDeviceId,
  deviceDnsName,
});

describe('devices named by alerts', () => {
  it('takes each device evidence once across alerts and ignores other evidence', () => {
    const alerts = [
      { evidence: [device(id(1), 'a.contoso'), device(id(2))] },
      {
        evidence: [
          device(id(2)),
          device(id(3).toUpperCase()),
          // File and process evidence carry a device id of their own: not a target.
          { '@odata.type': '#microsoft.graph.security.fileEvidence', mdeDeviceId: id(9) },
          { '@odata.type': '#microsoft.graph.security.processEvidence', mdeDeviceId: id(8) },
          { '@odata.type': '#microsoft.graph.security.userEvidence' },
        ],
      },
    ];
    const found = devicesOfAlerts(alerts);
    expect(found.ids).toEqual([id(1), id(2), id(3)]);
    expect(found.hostnames.get(id(1))).toBe('a.contoso');
    expect(found.skipped).toEqual({});
  });

  it('counts device evidence without a Defender id as not onboarded, and a malformed one as invalid', () => {
    const found = devicesOfAlerts([
      { evidence: [device(null), device(''), device('DEVICE-1'), device(id(4))] },
      { title: 'no evidence at all' },
    ]);
    expect(found.ids).toEqual([id(4)]);
    expect(found.skipped).toEqual({ 'not-onboarded': 2, 'invalid-id': 1 });
  });
});

describe('devices named by a hunting answer', () => {
  it('takes the distinct DeviceIds of the rows', () => {
    const found = devicesOfHunting({
      schema: [{ name: 'DeviceId' }, { name: 'DeviceName' }],
      results: [
        { DeviceId: id(1), DeviceName: 'a' },
        { DeviceId: id(1), DeviceName: 'a' },
        { DeviceId: id(2) },
        { DeviceId: null },
      ],
    });
    expect(found.ids).toEqual([id(1), id(2)]);
    expect(found.skipped).toEqual({ 'invalid-id': 1 });
  });

  it('refuses an answer without a DeviceId column, naming the columns it has', () => {
    expect(() =>
      devicesOfHunting({ schema: [{ name: 'DeviceName' }], results: [{ DeviceName: 'a' }] }),
    ).toThrow(
      new EvidenceError(
        "The hunting query's result has no DeviceId column (columns: DeviceName): keep DeviceId in its project, distinct or summarize, e.g. end it with `| distinct DeviceId`.",
      ),
    );
  });
});
