import { DelayedError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { createScanProcessor } from '../../../src/scan/process-scan-job.js';
import {
  action,
  baseConfig,
  CAMPAIGN_ID,
  fakeClient,
  fakeClock,
  fakeJob,
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
  const { store, device } = (() => {
    const made = fakeStore({ window });
    void made.store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
    return { store: made.store, device: () => made.devices.get(MACHINE_ID) };
  })();
  const { client, calls } = fakeClient(() => Promise.resolve(action()));
  let permits = 0;
  const process = createScanProcessor({
    store,
    client,
    clock,
    log: silentLog,
    config: baseConfig(),
    random: () => 0,
    limiter: {
      tryAcquire: () => {
        permits += 1;
        return Promise.resolve({ permit: fakePermit() });
      },
    },
    rateLimit: () => Promise.resolve(),
  });
  return { process, calls, clock, device, permits: () => permits };
}

describe('dispatch window gate', () => {
  it('delays a job outside the window until it opens, with no call, no slot and no attempt', async () => {
    const t = setup({ start: '10:00', end: '12:00', tz: 'UTC' });
    const { job, moves } = fakeJob();
    await expect(t.process(job, 'tok')).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toEqual([NOW + 2 * HOUR]);
    expect(t.calls.scans).toBe(0);
    expect(t.permits()).toBe(0);
    expect(t.device()).toMatchObject({ state: 'queued', attempts: 0, sentAt: null });
  });

  it('dispatches once the window is open', async () => {
    const t = setup({ start: '10:00', end: '12:00', tz: 'UTC' });
    t.clock.advance(2 * HOUR);
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('requested');
    expect(t.calls.scans).toBe(1);
  });

  it('reads a window across midnight in its own zone (08:00Z is 09:00 in Berlin, inside 22:00-10:00)', async () => {
    const t = setup({ start: '22:00', end: '10:00', tz: 'Europe/Berlin' });
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('requested');
  });

  it('dispatches at any time without a window', async () => {
    const t = setup(null);
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('requested');
  });
});
