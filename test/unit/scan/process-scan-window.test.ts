import { describe, expect, it } from 'vitest';
import { createDeviceProcessor } from '../../../src/scan/process-device.js';
import {
  action,
  baseConfig,
  CAMPAIGN_ID,
  fakeClient,
  fakeClock,
  fakePermit,
  fakeStore,
  MACHINE_ID,
  silentLog,
} from './fakes.js';

// fakeClock starts at 1_800_000_000_000 = 2027-01-15T08:00:00Z.
const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

function setup(window: { start: string; end: string; tz: string } | null) {
  const clock = fakeClock(NOW);
  const made = fakeStore({ window });
  void made.store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
  const { client, calls } = fakeClient(() => Promise.resolve(action()));
  const processDevice = createDeviceProcessor({
    store: made.store,
    clientFor: () => client,
    clock,
    log: silentLog,
    config: baseConfig(),
    random: () => 0,
  });
  const permits: ReturnType<typeof fakePermit>[] = [];
  const turn = () => {
    const permit = fakePermit();
    permits.push(permit);
    return processDevice({ campaignId: CAMPAIGN_ID, machineId: MACHINE_ID, tries: 0, permit });
  };
  return { turn, calls, clock, permits, device: () => made.devices.get(MACHINE_ID) };
}

describe('dispatch window gate', () => {
  it('puts a device outside the window back until it opens, with no call and no attempt', async () => {
    const t = setup({ start: '10:00', end: '12:00', tz: 'UTC' });
    const turn = await t.turn();
    expect(turn).toEqual({
      outcome: 'held',
      end: { kind: 'due', at: NOW + 2 * HOUR, attempt: false },
    });
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]?.released).toBe(true);
    expect(t.device()).toMatchObject({ state: 'queued', attempts: 0, sentAt: null });
  });

  it('dispatches once the window is open', async () => {
    const t = setup({ start: '10:00', end: '12:00', tz: 'UTC' });
    t.clock.advance(2 * HOUR);
    expect((await t.turn()).outcome).toBe('requested');
    expect(t.calls.scans).toBe(1);
  });

  it('reads a window across midnight in its own zone (08:00Z is 09:00 in Berlin, inside 22:00-10:00)', async () => {
    const t = setup({ start: '22:00', end: '10:00', tz: 'Europe/Berlin' });
    expect((await t.turn()).outcome).toBe('requested');
  });

  it('dispatches at any time without a window', async () => {
    const t = setup(null);
    expect((await t.turn()).outcome).toBe('requested');
  });
});
