import type { Redis } from 'ioredis';
import type { DeviceRecord } from './campaign.js';
import type { DevicePage, ListDevicesOptions } from './campaign-store.js';
import { decodeDevice, stateOf } from './device-codec.js';

/**
 * One page by HSCAN. `limit` is a target: HSCAN hands out whole batches and a cursor cannot point
 * inside one, so a page may hold a few more rows than asked rather than lose any.
 */
export async function listDevices(
  redis: Redis,
  key: string,
  options: ListDevicesOptions = {},
): Promise<DevicePage> {
  const limit = Math.max(1, options.limit ?? 100);
  const match = options.search ? `*${escapeGlob(options.search.toLowerCase())}*` : '*';
  const devices: DeviceRecord[] = [];
  let cursor = options.cursor ?? '0';
  do {
    const [next, flat] = await redis.hscan(
      key,
      cursor,
      'MATCH',
      match,
      'COUNT',
      Math.max(limit, 100),
    );
    cursor = next;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i] as string;
      const json = flat[i + 1] as string;
      if (options.state && stateOf(json) !== options.state) continue;
      devices.push(decodeDevice(id, json));
    }
  } while (cursor !== '0' && devices.length < limit);
  return { devices, cursor: cursor === '0' ? null : cursor };
}

/** Every device once (HSCAN may repeat a field while the hash is being resized: skipped). */
export async function* iterateDevices(redis: Redis, key: string): AsyncIterable<DeviceRecord> {
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 1_000);
    cursor = next;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i] as string;
      if (seen.has(id)) continue;
      seen.add(id);
      yield decodeDevice(id, flat[i + 1] as string);
    }
  } while (cursor !== '0');
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
