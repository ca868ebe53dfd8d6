import { clusterMasters, type Redis } from '../shared/redis.js';
import { formatBytes } from './format-bytes.js';

export { formatBytes };

export interface MemorySettings {
  /** Redis bytes one waiting device costs (`retention.memory.bytesPerDevice`). */
  bytesPerDevice: number;
  /** Warn above this share of the limit (`retention.memory.warnAt`). */
  warnAt: number;
  /** Refuse new campaigns that would go above this share (`retention.memory.refuseAt`). */
  refuseAt: number;
}

export interface RedisMemory {
  usedBytes: number;
  /** `maxmemory`, else the machine's memory (Redis then grows until the OS stops it); 0 if unknown. */
  limitBytes: number;
  limitSource: 'maxmemory' | 'system' | 'unknown';
}

export interface MemoryHeadroom extends RedisMemory {
  /** used / limit, 0..1 (0 when the limit is unknown). */
  ratio: number;
  /** Devices that still fit below `refuseAt`; null when the limit is unknown. */
  roomDevices: number | null;
  /** `warn` above `warnAt`, `full` at or above `refuseAt`. */
  level: 'ok' | 'warn' | 'full';
  /** One line for people: share used, what it is of, room in devices. */
  message: string;
}

const field = (info: string, name: string): number | null => {
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  return match?.[1] === undefined ? null : Number(match[1]);
};

/** Reads `INFO memory` text. */
export function parseMemoryInfo(info: string): RedisMemory {
  const usedBytes = field(info, 'used_memory') ?? 0;
  const max = field(info, 'maxmemory') ?? 0;
  if (max > 0) return { usedBytes, limitBytes: max, limitSource: 'maxmemory' };
  const system = field(info, 'total_system_memory') ?? 0;
  return system > 0
    ? { usedBytes, limitBytes: system, limitSource: 'system' }
    : { usedBytes, limitBytes: 0, limitSource: 'unknown' };
}

/** How full Redis is and how many more devices fit: a pure function, tested as a table. */
export function assessMemory(memory: RedisMemory, settings: MemorySettings): MemoryHeadroom {
  if (memory.limitBytes <= 0) {
    return {
      ...memory,
      ratio: 0,
      roomDevices: null,
      level: 'ok',
      message: `Redis uses ${formatBytes(memory.usedBytes)}; its limit is unknown (no maxmemory, no total_system_memory)`,
    };
  }
  const ratio = memory.usedBytes / memory.limitBytes;
  const room = Math.floor(
    (memory.limitBytes * settings.refuseAt - memory.usedBytes) / settings.bytesPerDevice,
  );
  const roomDevices = Math.max(0, room);
  const level = ratio >= settings.refuseAt ? 'full' : ratio > settings.warnAt ? 'warn' : 'ok';
  const of =
    memory.limitSource === 'maxmemory' ? 'maxmemory' : "the machine's memory (no maxmemory set)";
  const message =
    `Redis memory ${(ratio * 100).toFixed(0)} % used (${formatBytes(memory.usedBytes)} of ${formatBytes(memory.limitBytes)} ${of}): ` +
    `room for about ${roomDevices.toLocaleString('en-US')} more devices at ${formatBytes(settings.bytesPerDevice)} each ` +
    `before new campaigns are refused at ${(settings.refuseAt * 100).toFixed(0)} %` +
    (level === 'ok' ? '' : '; archive finished campaigns (`fleetscan prune`) or raise maxmemory');
  return { ...memory, ratio, roomDevices, level, message };
}

/**
 * Redis's memory now, assessed: for `/metrics`, the dashboard, `doctor` and `scan`. On a Redis
 * Cluster, the fullest master: a campaign's records all live on one master (one hash tag), so
 * the first master to fill up is the one that refuses writes.
 */
export async function memoryHeadroom(
  redis: Pick<Redis, 'info'>,
  settings: MemorySettings,
): Promise<MemoryHeadroom> {
  const assessed = await Promise.all(
    clusterMasters(redis).map(async (node) =>
      assessMemory(parseMemoryInfo(await node.info('memory')), settings),
    ),
  );
  return assessed.reduce((fullest, next) => (next.ratio > fullest.ratio ? next : fullest));
}
