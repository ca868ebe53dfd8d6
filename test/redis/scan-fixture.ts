import type { Priority } from '../../src/campaigns/campaign.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import type { Runtime } from '../../src/runtime/build-runtime.js';
import {
  buildSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/build-simulator.js';

/** A simulator listening on 127.0.0.1, port 0. */
export async function startSimulator(
  options: SimulatorOptions,
): Promise<{ sim: Simulator; url: string }> {
  const sim = await buildSimulator(options);
  const url = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  return { sim, url };
}

/** A config pointing at the simulator and the test Redis; `overrides` by dotted path. */
export function scanTestConfig(
  redisUrl: string,
  prefix: string,
  sim: { sim: Simulator; url: string },
  overrides: Record<string, unknown> = {},
  /** Variables secrets are read from (`dashboard.entra.clientSecretEnv`). */
  env: Record<string, string> = {},
): Config {
  return loadConfig({
    env,
    overrides: {
      'redis.url': redisUrl,
      'redis.prefix': prefix,
      'redis.budgetPrefix': prefix,
      'defender.apiUrl': sim.url,
      // A ready token: MSAL refuses plain-http authorities, and this tests the worker, not auth.
      'defender.accessToken': sim.sim.issueToken(),
      'defender.requestTimeout': '2s',
      'limits.windows': '100/600ms,1500/36s',
      'limits.guard': '5ms',
      'limits.throttleDefault': '600ms',
      'scan.backoff': '50ms',
      'scan.pendingRetry': '300ms',
      'scan.pendingRetryCap': '1s',
      'scan.pendingMaxWait': '20s',
      'scan.actionPoll': '500ms',
      'log.level': 'silent',
      ...overrides,
    },
  });
}

/** Creates a campaign and enqueues `ids` the way `fleetscan scan` does. */
export async function startCampaign(
  runtime: Runtime,
  ids: readonly string[],
  comment = 'test',
  meta: { tenant?: string; priority?: Priority } = {},
): Promise<string> {
  const id = newCampaignId();
  await runtime.store.createCampaign({
    id,
    name: 'test',
    scanType: 'Quick',
    comment: `${comment} [fleetscan:${id}]`,
    createdAt: Date.now(),
    createdBy: 'test',
    source: 'test',
    tenant: meta.tenant ?? 'default',
    priority: meta.priority ?? 'normal',
    window: null,
    schedule: null,
  });
  await enqueueDevices({
    lanes: runtime.lanes,
    store: runtime.store,
    campaign: id,
    ids: (async function* () {
      await Promise.resolve();
      yield ids;
    })(),
  });
  return id;
}

/** Polls until the campaign is finished; fails with its counts after `timeoutMs`. */
export async function waitFinished(
  runtime: Runtime,
  campaignId: string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const campaign = await runtime.store.getCampaign(campaignId);
    if (campaign?.state === 'finished') return;
    if (Date.now() > deadline)
      throw new Error(`campaign not finished: ${JSON.stringify(campaign?.counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
