import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../../src/campaigns/campaign.js';
import { DefenderError } from '../../../src/defender/errors.js';
import { createDeviceProcessor } from '../../../src/scan/process-device.js';
import type { ScanProcessorDeps } from '../../../src/scan/scan-ports.js';
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

function setup(
  options: {
    scan?: () => Promise<ReturnType<typeof action>>;
    listed?: ReturnType<typeof action>[];
    failMarkSent?: boolean;
    /** What another turn of the same device (or a cancel sweep) does just before this one marks it sent. */
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
  const deps: ScanProcessorDeps = {
    store,
    clientFor: () => client,
    clock,
    log: silentLog,
    config: baseConfig(),
    random: () => 0,
  };
  const processDevice = createDeviceProcessor(deps);
  const turn = (tries = 0, machineId = MACHINE_ID) => {
    const permit = fakePermit();
    permits.push(permit);
    return processDevice({ campaignId: CAMPAIGN_ID, machineId, tries, permit });
  };
  const device = () => devices.get(MACHINE_ID)!;
  return { turn, clock, campaign, devices, device, calls, permits, client, store };
}

const busy = () =>
  new DefenderError({
    status: 400,
    code: 'ActiveRequestAlreadyExists',
    retry: 'later',
    message: 'Action is already in progress',
  });

describe('createDeviceProcessor', () => {
  it('records the action of a 201 after marking the device sent', async () => {
    const t = setup();
    await expect(t.turn()).resolves.toEqual({
      outcome: 'requested',
      end: { kind: 'done' },
      tenant: 'works',
    });
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
    await t.turn();
    expect(t.device()).toMatchObject({ state: 'requested', joinedExisting: true });
  });

  it('defers a busy device without spending an attempt', async () => {
    const t = setup({ scan: () => Promise.reject(busy()) });
    await expect(t.turn()).resolves.toEqual({
      outcome: 'deferred',
      end: { kind: 'due', at: t.clock.now() + 1_000, attempt: false },
      tenant: 'works',
    });
    expect(t.device()).toMatchObject({
      state: 'deferred',
      deferredUntil: t.clock.now() + 1_000,
      firstBusyAt: t.clock.now(),
    });
  });

  it('records its own pending action when the device answers busy after a lost reply', async () => {
    const t = setup({ scan: () => Promise.reject(busy()), listed: [action({ id: 'act-lost' })] });
    expect((await t.turn()).outcome).toBe('recorded-lost-reply');
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
    await expect(t.turn()).resolves.toMatchObject({ outcome: 'failed', end: { kind: 'done' } });
    expect(t.device()).toMatchObject({ state: 'failed', reason: 'pending-timeout' });
  });

  it('records the action an earlier attempt created instead of calling again', async () => {
    const t = setup({
      listed: [action({ id: 'other', requestorComment: 'not ours' }), action({ id: 'act-crash' })],
    });
    t.devices.set(MACHINE_ID, { ...t.device(), sentAt: t.clock.now() - 500, attempts: 1 });
    expect((await t.turn()).outcome).toBe('recorded-lost-reply');
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true, settled: false });
    expect(t.device()).toMatchObject({ machineActionId: 'act-crash' });
    expect(t.calls.lists[0]).toMatchObject({ machineId: MACHINE_ID, type: 'RunAntiVirusScan' });
  });

  it('calls again when an earlier attempt left no action behind', async () => {
    const t = setup();
    t.devices.set(MACHINE_ID, { ...t.device(), sentAt: t.clock.now() - 500, attempts: 1 });
    expect((await t.turn()).outcome).toBe('requested');
    expect(t.calls.lists).toHaveLength(1);
    expect(t.device().attempts).toBe(2);
  });

  it('makes the device due when a throttled lookup ends, without spending an attempt', async () => {
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
    await expect(t.turn()).resolves.toEqual({
      outcome: 'held',
      end: { kind: 'due', at: t.clock.now() + 3_000, attempt: false },
    });
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true });
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
    await t.turn();
    expect(t.calls.lists).toHaveLength(0);
  });

  it('holds the device at the front of its line on a 429, without spending an attempt', async () => {
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
    await expect(t.turn()).resolves.toEqual({ outcome: 'held', end: { kind: 'hold' } });
    expect(t.device().state).toBe('queued');
  });

  it('looks nothing up on the turn after a 429: a 429 created nothing (defect 6)', async () => {
    let answers = 0;
    const t = setup({
      scan: () =>
        answers++ === 0
          ? Promise.reject(
              new DefenderError({ status: 429, code: 'TooManyRequests', retry: 'throttled' }),
            )
          : Promise.resolve(action()),
    });
    await t.turn();
    expect(t.device().sentAt).toBeNull();
    await expect(t.turn()).resolves.toMatchObject({ outcome: 'requested' });
    expect(t.calls.lists).toHaveLength(0);
    expect(t.calls.scans).toBe(2);
  });

  it('keeps an unanswered send "maybe sent" through a later busy deferral (defect 11)', async () => {
    const answers = [
      new DefenderError({ status: 503, code: 'ServiceUnavailable', retry: 'backoff' }),
      busy(),
    ];
    const t = setup({
      scan: () => {
        const next = answers.shift();
        return next ? Promise.reject(next) : Promise.resolve(action());
      },
    });
    await expect(t.turn(0)).resolves.toMatchObject({ outcome: 'retry' });
    // The 503 may have made an action: looked up (none yet), called again, answered busy.
    await expect(t.turn(1)).resolves.toMatchObject({ outcome: 'deferred' });
    expect(t.device()).toMatchObject({ state: 'deferred', maybeSent: true });
    const listsBefore = t.calls.lists.length;
    // The busy answer says nothing about the first send: the next turn looks up again.
    await expect(t.turn(1)).resolves.toMatchObject({ outcome: 'requested' });
    expect(t.calls.lists.length).toBe(listsBefore + 1);
    expect(t.device().maybeSent).toBe(false);
  });

  it('runs the reconcile pass before calling when the campaign records may be incomplete', async () => {
    const t = setup();
    t.campaign.reconcile = 1;
    const ensured: string[] = [];
    const turn = await createDeviceProcessor({
      store: t.store,
      clientFor: () => t.client,
      clock: t.clock,
      log: silentLog,
      config: baseConfig(),
      reconciler: {
        ensure: (id) => {
          ensured.push(id);
          t.campaign.reconcile = 0;
          return Promise.resolve('reconciled');
        },
      },
    })({ campaignId: CAMPAIGN_ID, machineId: MACHINE_ID, tries: 0, permit: fakePermit() });
    expect(turn).toEqual({ outcome: 'held', end: { kind: 'hold' } });
    expect(ensured).toEqual([CAMPAIGN_ID]);
    expect(t.calls.scans).toBe(0);
  });

  it('makes a 5xx due after a growing backoff and records the failure on the last attempt', async () => {
    const error = new DefenderError({ status: 503, code: 'ServiceUnavailable', retry: 'backoff' });
    const t = setup({ scan: () => Promise.reject(error) });
    await expect(t.turn(0)).resolves.toEqual({
      outcome: 'retry',
      end: { kind: 'due', at: t.clock.now() + 50, attempt: true },
    });
    await expect(t.turn(1)).resolves.toMatchObject({ end: { at: t.clock.now() + 100 } });
    expect(t.device().state).toBe('queued');
    await expect(t.turn(2)).resolves.toEqual({ outcome: 'failed', end: { kind: 'done' } });
    expect(t.device()).toMatchObject({ state: 'failed', reason: 'ServiceUnavailable' });
  });

  it('records the action a lost reply made on the last attempt instead of failing the device', async () => {
    const lost = new DefenderError({ status: 0, code: 'ECONNRESET', retry: 'backoff' });
    const t = setup({
      scan: () => Promise.reject(lost),
      listed: [action({ id: 'act-lost-last' })],
    });
    expect((await t.turn(2)).outcome).toBe('recorded-lost-reply');
    expect(t.device()).toMatchObject({ state: 'requested', machineActionId: 'act-lost-last' });
  });

  it.each([
    [404, 'ResourceNotFound', 'never', 'Machine not found'],
    [400, 'OsPlatformNotSupported', 'never', 'OS not supported'],
    [403, 'Forbidden', 'never', 'Missing role'],
    // A 401 (after the client's one refresh) blocks the tenant instead: tenant-fault-turn.test.ts.
  ] as const)(
    'fails a %i %s with the code and message, never retried',
    async (status, code, retry, message) => {
      const t = setup({
        scan: () => Promise.reject(new DefenderError({ status, code, retry, message })),
      });
      await expect(t.turn()).resolves.toEqual({
        outcome: 'failed',
        end: { kind: 'done' },
        tenant: 'works',
      });
      expect(t.device()).toMatchObject({ state: 'failed', reason: `${code}: ${message}` });
    },
  );

  it('cancels the device of a cancelled campaign without calling', async () => {
    const t = setup();
    t.campaign.state = 'cancelled';
    expect((await t.turn()).outcome).toBe('cancelled');
    expect(t.device().state).toBe('cancelled');
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true });
  });

  it('puts the device of a paused campaign back in line without calling', async () => {
    const t = setup();
    t.campaign.state = 'paused';
    await expect(t.turn()).resolves.toEqual({ outcome: 'held', end: { kind: 'hold' } });
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true });
  });

  it('does nothing for a device handed out twice', async () => {
    const t = setup();
    await t.turn();
    expect((await t.turn()).outcome).toBe('already-done');
    expect(t.calls.scans).toBe(1);
  });

  it('does not call when another turn of the same device recorded it meanwhile', async () => {
    const t = setup({
      raceBeforeSend: { state: 'requested', machineActionId: 'act-0', actionStatus: 'Pending' },
    });
    expect((await t.turn()).outcome).toBe('already-done');
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true, settled: false });
    expect(t.device()).toMatchObject({ state: 'requested', machineActionId: 'act-0' });
  });

  it('does not call for a device a cancel sweep took while its turn was starting', async () => {
    const t = setup({ raceBeforeSend: { state: 'cancelled' } });
    expect((await t.turn()).outcome).toBe('cancelled');
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true });
  });

  it('gives the slot back and spends an attempt when the device cannot be marked sent', async () => {
    const t = setup({ failMarkSent: true });
    expect((await t.turn()).end).toMatchObject({ kind: 'due', attempt: true });
    expect(t.permits[0]).toMatchObject({ released: true, settled: false });
    expect(t.calls.scans).toBe(0);
  });

  it('gives the slot back for a device the campaign does not hold', async () => {
    const t = setup();
    await expect(t.turn(0, 'b'.repeat(40))).resolves.toEqual({
      outcome: 'already-done',
      end: { kind: 'done' },
    });
    expect(t.calls.scans).toBe(0);
    expect(t.permits[0]).toMatchObject({ released: true });
  });

  it('fails a device whose workers kept dying, after looking for its action once more', async () => {
    const t = setup();
    t.devices.set(MACHINE_ID, { ...t.device(), sentAt: t.clock.now() - 500, attempts: 1 });
    await expect(t.turn(3)).resolves.toEqual({ outcome: 'failed', end: { kind: 'done' } });
    expect(t.calls.lists).toHaveLength(1);
    expect(t.calls.scans).toBe(0);
    expect(t.device()).toMatchObject({ state: 'failed', reason: 'worker-lost' });
  });
});
