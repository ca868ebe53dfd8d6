import { describe, expect, it } from 'vitest';
import { DefenderError } from '../../../src/defender/errors.js';
import { settleFailedJob } from '../../../src/scan/start-scan-worker.js';
import type { ScanApi } from '../../../src/scan/scan-ports.js';
import {
  action,
  CAMPAIGN_ID,
  fakeClient,
  fakeClock,
  fakeStore,
  MACHINE_ID,
  silentLog,
} from './fakes.js';

const job = {
  id: `${CAMPAIGN_ID}.${MACHINE_ID}`,
};

function setup(client: ScanApi) {
  const { store, devices } = fakeStore();
  void store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
  const deps = { store, client, clock: fakeClock(), log: silentLog };
  return { deps, device: () => devices.get(MACHINE_ID)! };
}

describe('settleFailedJob', () => {
  it('records the own action of a job BullMQ failed outside the processor', async () => {
    const t = setup(fakeClient(() => Promise.reject(new Error('unused')), [action()]).client);
    await settleFailedJob(job, new Error('job stalled more than allowable limit'), t.deps);
    expect(t.device()).toMatchObject({ state: 'requested', machineActionId: 'act-1' });
  });

  it('fails the device when the lookup fails too, so the campaign can still finish', async () => {
    const failing: ScanApi = {
      runAntiVirusScan: () => Promise.reject(new Error('unused')),
      listMachineActions: async function* () {
        await Promise.resolve();
        yield* [];
        throw new DefenderError({
          status: 503,
          code: 'ServiceUnavailable',
          retry: 'backoff',
          message: 'down',
        });
      },
    };
    const t = setup(failing);
    await settleFailedJob(job, new Error('job stalled more than allowable limit'), t.deps);
    expect(t.device()).toMatchObject({
      state: 'failed',
      reason: 'job stalled more than allowable limit',
    });
  });
});
