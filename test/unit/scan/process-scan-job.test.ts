import { DelayedError, RateLimitError, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../../src/campaigns/campaign.js';
import { DefenderError } from '../../../src/defender/errors.js';
import { createScanProcessor } from '../../../src/scan/process-scan-job.js';
import type { ScanProcessorDeps } from '../../../src/scan/scan-ports.js';
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

function setup(
  options: {
    scan?: () => Promise<ReturnType<typeof action>>;
    listed?: ReturnType<typeof action>[];
    waitMs?: number;
    failMarkSent?: boolean;
    /** What another run of the same job (or a cancel sweep) does just before this one marks it sent. */
    raceBeforeSend?: Partial<DeviceRecord>;
  } = {},
) {
  const clock = fakeClock();
  const { store, campaign, devices } = fakeStore();
  void store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
  if (options.failMarkSent) store.markSent = () => Promise.reject(new Error('Redis went away'));
  const race = options.raceBeforeSend;
  if (race) {
    const markSent = store.markSent.bind(store);
    store.markSent = (c, id, at) => {
      devices.set(id, { ...devices.get(id)!, ...race });
      return markSent(c, id, at);
    };
  }
  const { client, calls } = fakeClient(
    options.scan ?? (() => Promise.resolve(action())),
    options.listed,
  );
  const permits: ReturnType<typeof fakePermit>[] = [];
  const rateLimits: number[] = [];
  const deps: ScanProcessorDeps = {
    store,
    client,
    clock,
    log: silentLog,
    config: baseConfig(),
    random: () => 0,
    limiter: {
      tryAcquire: () => {
        if (options.waitMs !== undefined) return Promise.resolve({ waitMs: options.waitMs });
        const permit = fakePermit();
        permits.push(permit);
        return Promise.resolve({ permit });
      },
    },
    rateLimit: (ms) => {
      rateLimits.push(ms);
      return Promise.resolve();
    },
  };
  const device = () => devices.get(MACHINE_ID)!;
  return {
    process: createScanProcessor(deps),
    clock,
    campaign,
    devices,
    device,
    calls,
    permits,
    rateLimits,
    client,
  };
}

const busy = () =>
  new DefenderError({
    status: 400,
    code: 'ActiveRequestAlreadyExists',
    retry: 'later',
    message: 'Action is already in progress',
  });

describe('createScanProcessor', () => {
  it('records the action of a 201 after marking the device sent', async () => {
    const t = setup();
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('requested');
    expect(t.device()).toMatchObject({
      state: 'requested',
      machineActionId: 'act-1',
      attempts: 1,
      joinedExisting: false,
    });
    expect(t.device().sentAt).not.toBeNull();
    expect(t.calls.scans).toBe(1);
  });

  it('marks a device that joined an action someone else started', async () => {
    const t = setup({ scan: () => Promise.resolve(action({ requestorComment: 'manual scan' })) });
    await t.process(fakeJob().job, 'tok');
    expect(t.device()).toMatchObject({ state: 'requested', joinedExisting: true });
  });

  it('sleeps in BullMQ when no slot is free, without calling or spending anything', async () => {
    const t = setup({ waitMs: 420 });
    await expect(t.process(fakeJob().job, 'tok')).rejects.toBeInstanceOf(RateLimitError);
    expect(t.rateLimits).toEqual([420]);
    expect(t.calls.scans).toBe(0);
    expect(t.device()).toMatchObject({ state: 'queued', attempts: 0, sentAt: null });
  });

  it('defers a busy device without spending an attempt', async () => {
    const t = setup({ scan: () => Promise.reject(busy()) });
    const { job, moves } = fakeJob();
    await expect(t.process(job, 'tok')).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toEqual([t.clock.now() + 1_000]);
    expect(t.device()).toMatchObject({
      state: 'deferred',
      deferredUntil: t.clock.now() + 1_000,
      firstBusyAt: t.clock.now(),
    });
  });

  it('records its own pending action when the device answers busy after a lost reply', async () => {
    const t = setup({ scan: () => Promise.reject(busy()), listed: [action({ id: 'act-lost' })] });
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('recorded-lost-reply');
    expect(t.device()).toMatchObject({
      state: 'requested',
      machineActionId: 'act-lost',
      joinedExisting: false,
    });
  });

  it('gives up on a device still busy at pendingMaxWait', async () => {
    const t = setup({ scan: () => Promise.reject(busy()) });
    t.devices.set(MACHINE_ID, {
      ...t.device(),
      state: 'deferred',
      firstBusyAt: t.clock.now() - 60_000,
      deferredUntil: t.clock.now(),
      sentAt: t.clock.now() - 2_000,
    });
    await expect(t.process(fakeJob().job, 'tok')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(t.device()).toMatchObject({ state: 'failed', reason: 'pending-timeout' });
  });

  it('records the action an earlier attempt created instead of calling again', async () => {
    const t = setup({
      listed: [action({ id: 'other', requestorComment: 'not ours' }), action({ id: 'act-crash' })],
    });
    t.devices.set(MACHINE_ID, { ...t.device(), sentAt: t.clock.now() - 500, attempts: 1 });
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('recorded-lost-reply');
    expect(t.calls.scans).toBe(0);
    expect(t.permits).toHaveLength(0);
    expect(t.device()).toMatchObject({ machineActionId: 'act-crash' });
    expect(t.calls.lists[0]).toMatchObject({ machineId: MACHINE_ID, type: 'RunAntiVirusScan' });
  });

  it('calls again when an earlier attempt left no action behind', async () => {
    const t = setup();
    t.devices.set(MACHINE_ID, { ...t.device(), sentAt: t.clock.now() - 500, attempts: 1 });
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('requested');
    expect(t.calls.lists).toHaveLength(1);
    expect(t.device().attempts).toBe(2);
  });

  it('holds the queue when the lookup itself is throttled, without spending an attempt', async () => {
    const t = setup();
    t.devices.set(MACHINE_ID, { ...t.device(), sentAt: t.clock.now() - 500, attempts: 1 });
    const throttled = new DefenderError({
      status: 429,
      code: 'TooManyRequests',
      retry: 'throttled',
      retryAfterMs: 3_000,
    });
    t.client.listMachineActions = async function* () {
      await Promise.resolve();
      yield* [];
      throw throttled;
    };
    await expect(t.process(fakeJob().job, 'tok')).rejects.toBeInstanceOf(RateLimitError);
    expect(t.rateLimits).toEqual([3_000]);
    expect(t.calls.scans).toBe(0);
  });

  it('skips the lookup for a device whose last call was answered busy', async () => {
    const t = setup();
    t.devices.set(MACHINE_ID, {
      ...t.device(),
      state: 'deferred',
      sentAt: t.clock.now() - 1_000,
      deferredUntil: t.clock.now(),
      firstBusyAt: t.clock.now() - 1_000,
    });
    await t.process(fakeJob().job, 'tok');
    expect(t.calls.lists).toHaveLength(0);
  });

  it('holds the queue for Retry-After on a 429 without spending an attempt', async () => {
    const t = setup({
      scan: () =>
        Promise.reject(
          new DefenderError({
            status: 429,
            code: 'TooManyRequests',
            retry: 'throttled',
            retryAfterMs: 7_000,
          }),
        ),
    });
    await expect(t.process(fakeJob().job, 'tok')).rejects.toBeInstanceOf(RateLimitError);
    expect(t.rateLimits).toEqual([7_000]);
    expect(t.device().state).toBe('queued');
  });

  it('leaves a 5xx to BullMQ attempts and records the failure on the last one', async () => {
    const error = new DefenderError({ status: 503, code: 'ServiceUnavailable', retry: 'backoff' });
    const t = setup({ scan: () => Promise.reject(error) });
    await expect(t.process(fakeJob({ attemptsMade: 0 }).job, 'tok')).rejects.toBe(error);
    expect(t.device().state).toBe('queued');
    await expect(t.process(fakeJob({ attemptsMade: 2 }).job, 'tok')).rejects.toBe(error);
    expect(t.device()).toMatchObject({ state: 'failed', reason: 'ServiceUnavailable' });
  });

  it('records the action a lost reply made on the last attempt instead of failing the device', async () => {
    const lost = new DefenderError({ status: 0, code: 'ECONNRESET', retry: 'backoff' });
    const t = setup({
      scan: () => Promise.reject(lost),
      listed: [action({ id: 'act-lost-last' })],
    });
    await expect(t.process(fakeJob({ attemptsMade: 2 }).job, 'tok')).resolves.toBe(
      'recorded-lost-reply',
    );
    expect(t.device()).toMatchObject({ state: 'requested', machineActionId: 'act-lost-last' });
  });

  it.each([
    [404, 'ResourceNotFound', 'never', 'Machine not found'],
    [400, 'OsPlatformNotSupported', 'never', 'OS not supported'],
    [403, 'Forbidden', 'never', 'Missing role'],
    [401, 'Unauthorized', 'reauth', 'Token expired'],
  ] as const)(
    'fails a %i %s with the code and message, never retried',
    async (status, code, retry, message) => {
      const t = setup({
        scan: () => Promise.reject(new DefenderError({ status, code, retry, message })),
      });
      await expect(t.process(fakeJob().job, 'tok')).rejects.toBeInstanceOf(UnrecoverableError);
      expect(t.device()).toMatchObject({ state: 'failed', reason: `${code}: ${message}` });
    },
  );

  it('cancels the device of a cancelled campaign without calling', async () => {
    const t = setup();
    t.campaign.state = 'cancelled';
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('cancelled');
    expect(t.device().state).toBe('cancelled');
    expect(t.calls.scans).toBe(0);
  });

  it('puts the job of a paused campaign back to delayed', async () => {
    const t = setup();
    t.campaign.state = 'paused';
    const { job, moves } = fakeJob();
    await expect(t.process(job, 'tok')).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toHaveLength(1);
    expect(t.calls.scans).toBe(0);
  });

  it('does nothing for a job picked up twice', async () => {
    const t = setup();
    await t.process(fakeJob().job, 'tok');
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('already-done');
    expect(t.calls.scans).toBe(1);
  });

  it('does not call when the other run of a job picked up twice recorded the device meanwhile', async () => {
    const t = setup({
      raceBeforeSend: { state: 'requested', machineActionId: 'act-0', actionStatus: 'Pending' },
    });
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('already-done');
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true, settled: false });
    expect(t.device()).toMatchObject({ state: 'requested', machineActionId: 'act-0' });
  });

  it('does not call for a device a cancel sweep took while the job was starting', async () => {
    const t = setup({ raceBeforeSend: { state: 'cancelled' } });
    await expect(t.process(fakeJob().job, 'tok')).resolves.toBe('cancelled');
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true });
  });

  it('gives the slot back when the device cannot be marked sent', async () => {
    const t = setup({ failMarkSent: true });
    await expect(t.process(fakeJob().job, 'tok')).rejects.toThrow('Redis went away');
    expect(t.permits[0]).toMatchObject({ released: true, settled: false });
    expect(t.calls.scans).toBe(0);
  });

  it('refuses a job for a device the campaign does not hold', async () => {
    const t = setup();
    const { job } = fakeJob({ id: `${CAMPAIGN_ID}.${'b'.repeat(40)}` });
    await expect(t.process(job, 'tok')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(t.calls.scans).toBe(0);
  });

  it('refuses a job whose id names no campaign and device', async () => {
    const t = setup();
    await expect(t.process(fakeJob({ id: 'no-dot-here' }).job, 'tok')).rejects.toThrow(
      /Not a scan job id/,
    );
    expect(t.calls.scans).toBe(0);
  });
});
