import type { Redis } from 'ioredis';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import type { BenchTenant } from './tenant-fleet.js';

/** Every tenant has a campaign done once each of its devices has a counted call (sim log). */
export async function waitTenantsDone(
  tenants: readonly BenchTenant[],
  required: ReadonlySet<string>,
  timeoutMs: number,
): Promise<void> {
  const seen = new Map<string, { next: number; devices: Set<string> }>();
  const deadline = performance.now() + timeoutMs;
  // The simulators' logs are in this process: no Redis polling to distort the Redis figures.
  for (;;) {
    let open = 0;
    for (const tenant of tenants) {
      if (!required.has(tenant.name)) continue;
      const state = seen.get(tenant.name) ?? { next: 0, devices: new Set<string>() };
      seen.set(tenant.name, state);
      const calls = tenant.sim.sim.calls();
      for (; state.next < calls.length; state.next++) {
        const call = calls[state.next]!;
        if (call.family === 'scan' && call.status !== 429 && call.machineId)
          state.devices.add(call.machineId);
      }
      if (state.devices.size < tenant.devices) open++;
    }
    if (open === 0) return;
    if (performance.now() > deadline)
      throw new Error(`${open} tenant campaigns not done within ${Math.round(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Counts per campaign in one pipeline; retried until no required one has devices queued. */
export async function settledCounts(
  admin: Redis,
  prefix: string,
  ids: readonly string[],
  required: readonly boolean[],
): Promise<{ counts: Record<string, number>[]; commands: number }> {
  let commands = 0;
  for (let round = 0; ; round++) {
    const pipeline = admin.pipeline();
    for (const id of ids) pipeline.hgetall(campaignKeys(prefix, id).counts);
    const replies = (await pipeline.exec()) ?? [];
    commands += ids.length;
    const counts = replies.map(([, raw]) =>
      Object.fromEntries(Object.entries(raw as Record<string, string>).map(([k, v]) => [k, +v])),
    );
    const open = counts.some(
      (c, i) => required[i] === true && (c['queued'] ?? 0) + (c['deferred'] ?? 0) > 0,
    );
    // The store is written after the reply the simulator logged: a moment behind it at most.
    if (!open || round >= 40) return { counts, commands };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
