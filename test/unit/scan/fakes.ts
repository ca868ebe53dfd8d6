import { pino } from 'pino';
import type {
  Campaign,
  CampaignMeta,
  DeviceRecord,
  DeviceState,
} from '../../../src/campaigns/campaign.js';
import type { CampaignStore } from '../../../src/campaigns/campaign-store.js';
import { UnknownDeviceError } from '../../../src/campaigns/errors.js';
import type { CallPermit } from '../../../src/defender/call-gate.js';
import type { MachineAction } from '../../../src/defender/machine-action.js';
import type { MachineActionFilter } from '../../../src/defender/odata.js';
import type { Clock } from '../../../src/shared/clock.js';
import type { ScanApi, ScanProcessorDeps } from '../../../src/scan/scan-ports.js';

export const CAMPAIGN_ID = 'c-abcdefabcdef';
export const MACHINE_ID = 'a'.repeat(40);

export function fakeClock(start = 1_800_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: () => Promise.resolve(),
    advance: (ms) => {
      now += ms;
    },
  };
}

function emptyDevice(machineId: string): DeviceRecord {
  return {
    machineId,
    state: 'queued',
    machineActionId: null,
    actionStatus: null,
    reason: null,
    attempts: 0,
    requestedAt: null,
    joinedExisting: false,
    sentAt: null,
    deferredUntil: null,
    firstBusyAt: null,
  };
}

/** A CampaignStore in memory, with the transitions the processor relies on. */
export function fakeStore(meta: Partial<CampaignMeta> = {}) {
  const campaign: Campaign = {
    id: CAMPAIGN_ID,
    name: 'test',
    scanType: 'Quick',
    comment: `weekly [fleetscan:${CAMPAIGN_ID}]`,
    createdAt: 1_800_000_000_000,
    createdBy: 'test',
    source: 'file:test',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
    state: 'running',
    finishedAt: null,
    total: 0,
    counts: { queued: 0, deferred: 0, requested: 0, failed: 0, cancelled: 0 },
    joinedExisting: 0,
    failuresByReason: {},
    deferrals: 0,
    ...meta,
  };
  const devices = new Map<string, DeviceRecord>();
  const update = (id: string, change: Partial<DeviceRecord>) => {
    const next = { ...(devices.get(id) ?? emptyDevice(id)), ...change };
    devices.set(id, next);
    return Promise.resolve(next);
  };
  const state = (id: string): DeviceState | undefined => devices.get(id)?.state;
  const store: CampaignStore = {
    createCampaign: () => Promise.resolve(),
    addDevices: (_c, ids) => {
      for (const id of ids) devices.set(id, emptyDevice(id));
      return Promise.resolve(ids.length);
    },
    getCampaign: (id) => Promise.resolve(id === campaign.id ? campaign : null),
    listCampaigns: () => Promise.resolve([campaign]),
    setCampaignState: (_c, s) => {
      campaign.state = s;
      return Promise.resolve();
    },
    getDevice: (_c, id) => Promise.resolve(devices.get(id) ?? null),
    listDevices: () => Promise.resolve({ devices: [...devices.values()], cursor: null }),
    iterateDevices: async function* () {
      await Promise.resolve();
      yield* devices.values();
    },
    markSent: (_c, id, at) => {
      const before = devices.get(id);
      // As transition-3.lua: a previous send with no busy answer after it stays "maybe sent".
      const unanswered =
        before?.sentAt != null &&
        !(
          before.state === 'deferred' &&
          before.deferredUntil !== null &&
          before.sentAt < before.deferredUntil
        );
      return update(id, {
        sentAt: at,
        attempts: (before?.attempts ?? 0) + 1,
        ...(unanswered ? { maybeSent: true } : {}),
      });
    },
    // As transition-3.lua's `sent` with ARGV[5] 1: no mark when the device may have been sent.
    markSentUnlessMaybeSent: (c, id, at) => {
      const before = devices.get(id);
      if (!before) return Promise.reject(new UnknownDeviceError(c, id));
      const waiting = before.state === 'queued' || before.state === 'deferred';
      const answeredBusy =
        before.state === 'deferred' &&
        before.deferredUntil !== null &&
        before.sentAt !== null &&
        before.sentAt < before.deferredUntil;
      if (waiting && (before.maybeSent === true || (before.sentAt !== null && !answeredBusy)))
        return Promise.resolve(null);
      return store.markSent(c, id, at);
    },
    markAnswered: (_c, id) => update(id, { sentAt: null }),
    markRequested: (_c, id, action, d) =>
      state(id) === 'requested'
        ? Promise.resolve(devices.get(id)!)
        : update(id, {
            state: 'requested',
            maybeSent: false,
            machineActionId: action.id,
            actionStatus: action.status,
            joinedExisting: d.joinedExisting,
            requestedAt: d.at,
          }),
    markDeferred: (_c, id, d) =>
      update(id, {
        state: 'deferred',
        deferredUntil: d.until,
        firstBusyAt: devices.get(id)?.firstBusyAt ?? d.at,
      }),
    markQueued: (_c, id) => update(id, { state: 'queued' }),
    markFailed: (_c, id, reason) => update(id, { state: 'failed', reason }),
    markCancelled: (_c, id) => update(id, { state: 'cancelled' }),
    updateActionStatuses: () => Promise.resolve(0),
  };
  return { store, campaign, devices };
}

export function action(overrides: Partial<MachineAction> = {}): MachineAction {
  return {
    id: 'act-1',
    type: 'RunAntiVirusScan',
    status: 'Pending',
    machineId: MACHINE_ID,
    creationDateTimeUtc: '2027-01-15T08:00:00Z',
    requestorComment: `weekly [fleetscan:${CAMPAIGN_ID}]`,
    ...overrides,
  };
}

export interface FakePermit extends CallPermit {
  settled: boolean;
  released: boolean;
}

export function fakePermit(): FakePermit {
  const permit: FakePermit = {
    settled: false,
    released: false,
    settle: () => {
      permit.settled = true;
      return Promise.resolve();
    },
    release: () => {
      permit.released = true;
      return Promise.resolve();
    },
  };
  return permit;
}

/** A client whose scan answers come from `scan` and whose action list is `listed`. */
export function fakeClient(scan: () => Promise<MachineAction>, listed: MachineAction[] = []) {
  const calls = { scans: 0, lists: [] as MachineActionFilter[] };
  const client: ScanApi = {
    runAntiVirusScan: () => {
      calls.scans++;
      return scan();
    },
    listMachineActions: async function* (filter?: MachineActionFilter) {
      calls.lists.push(filter ?? {});
      await Promise.resolve();
      yield* listed;
    },
  };
  return { client, calls };
}

export const silentLog = pino({ level: 'silent' });

export function baseConfig(): ScanProcessorDeps['config'] {
  return {
    scan: {
      attempts: 3,
      backoff: 100,
      pendingRetry: 1_000,
      pendingRetryCap: 8_000,
      pendingMaxWait: 60_000,
      actionPoll: 1_000,
    },
    limits: { throttleDefault: 60_000 },
  };
}
