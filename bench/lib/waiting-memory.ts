import { loadConfig } from '../../src/config/load.js';
import { listScanSource } from '../../src/control/scan-sources.js';
import { startCampaign } from '../../src/control/start-campaign.js';
import { openSession } from '../../src/cli/commands/shared/session.js';
import { resetRedis, type BenchContext } from './context.js';
import { offlineFleetscanEnv } from './machinery.js';
import { redisUsage, usageDelta } from './redis-usage.js';
import { machineIds } from './sim-harness.js';

/** What one campaign of `devices` waiting devices costs Redis, measured on its own. */
export interface WaitingCost {
  devices: number;
  bytesPerDevice: number;
  commandsPerDevice: number;
  redisCpuMsPerDevice: number;
  enqueueMs: number;
}

/**
 * Enqueues one campaign of `devices` ids through `startCampaign` (no workers, no API) into an
 * emptied Redis: the marginal Redis memory, commands and CPU of a waiting device, per-campaign
 * costs spread over many devices.
 */
export async function measureWaitingCost(ctx: BenchContext, devices: number): Promise<WaitingCost> {
  await resetRedis(ctx);
  const env = offlineFleetscanEnv(ctx, 'scale-memory');
  const session = await openSession(loadConfig({ env }));
  try {
    const ids = machineIds(devices);
    const before = await redisUsage(ctx.admin);
    const t0 = performance.now();
    await startCampaign(
      { store: session.store, lanes: session.lanes },
      {
        source: listScanSource(ids, 'bench:memory'),
        scanType: 'Quick',
        comment: 'fleetscan bench scale',
        createdBy: 'bench',
      },
    );
    const enqueueMs = performance.now() - t0;
    const delta = usageDelta(before, await redisUsage(ctx.admin));
    return {
      devices,
      bytesPerDevice: delta.usedMemory / devices,
      // The second INFO is ours, not the enqueue's.
      commandsPerDevice: (delta.commands - 1) / devices,
      redisCpuMsPerDevice: delta.cpuMs / devices,
      enqueueMs,
    };
  } finally {
    await session.close();
  }
}
