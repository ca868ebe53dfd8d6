import { Gauge, type Registry } from 'prom-client';
import type { MemoryHeadroom } from './memory-headroom.js';

/**
 * Redis memory and archive gauges for `/metrics`, read on every scrape. A failed read leaves them
 * out of that scrape (`fleetscan_redis_up` already says Redis could not be read).
 */
export function addRetentionGauges(
  registry: Registry,
  read: () => Promise<{ memory: MemoryHeadroom; archivedCampaigns: number }>,
): void {
  const registers = [registry];
  let last: Promise<{ memory: MemoryHeadroom; archivedCampaigns: number } | null> | null = null;
  // One read per scrape, shared by the gauges' collect callbacks.
  const current = () => {
    last ??= read()
      .catch(() => null)
      .finally(() => {
        setImmediate(() => {
          last = null;
        });
      });
    return last;
  };
  const gauge = (
    name: string,
    help: string,
    pick: (r: { memory: MemoryHeadroom; archivedCampaigns: number }) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.reset();
        const r = await current();
        const value = r === null ? null : pick(r);
        if (value !== null) this.set(value);
      },
    });
  gauge('fleetscan_redis_memory_used_bytes', 'Redis used_memory', (r) => r.memory.usedBytes);
  gauge(
    'fleetscan_redis_memory_max_bytes',
    "Redis maxmemory (the machine's memory when no maxmemory is set; absent when unknown)",
    (r) => (r.memory.limitBytes > 0 ? r.memory.limitBytes : null),
  );
  gauge(
    'fleetscan_redis_memory_room_devices',
    'Devices that still fit before scan refuses new campaigns (retention.memory.refuseAt)',
    (r) => r.memory.roomDevices,
  );
  gauge(
    'fleetscan_redis_memory_level',
    'Redis memory against retention.memory: 0 ok, 1 above warnAt, 2 at or above refuseAt (scan refuses)',
    (r) => ({ ok: 0, warn: 1, full: 2 })[r.memory.level],
  );
  gauge(
    'fleetscan_campaigns_archived',
    'Campaigns archived to files and removed from Redis',
    (r) => r.archivedCampaigns,
  );
}
