import type { Redis } from '../shared/redis.js';
import type { DeviceRecord } from './campaign.js';
import type { DevicePage, ListDevicesOptions } from './campaign-store.js';
import { decodeDevice, stateOf } from './device-codec.js';

/**
 * Fields per HSCAN. Redis runs one command at a time, so one HSCAN holds every other client for
 * as long as it takes: measured on the loaded 2-core host, COUNT 1000 averaged 1.9 ms a call
 * (with outliers of 17–38 ms), COUNT 100 averaged 0.2 ms (`bench retention`). A page or an export
 * takes more round trips instead; `iterateDevices` hides them by asking for the next batch
 * while the current one is being used.
 */
export const DEVICE_SCAN_COUNT = 100;

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
    const [next, flat] = await redis.hscan(key, cursor, 'MATCH', match, 'COUNT', DEVICE_SCAN_COUNT);
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

/**
 * Every device once (HSCAN may repeat a field while the hash is being resized: skipped). The
 * next HSCAN is sent as soon as its cursor is known, so Redis answers it while this batch is
 * consumed: short commands without paying a round trip per batch.
 */
export async function* iterateDevices(redis: Redis, key: string): AsyncIterable<DeviceRecord> {
  const seen = new Set<string>();
  const scan = (cursor: string): Promise<[cursor: string, fields: string[]]> =>
    redis.hscan(key, cursor, 'COUNT', DEVICE_SCAN_COUNT);
  let pending: Promise<[cursor: string, fields: string[]]> | null = scan('0');
  try {
    while (pending) {
      const [next, flat]: [string, string[]] = await pending;
      pending = next === '0' ? null : scan(next);
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i] as string;
        if (seen.has(id)) continue;
        seen.add(id);
        yield decodeDevice(id, flat[i + 1] as string);
      }
    }
  } finally {
    // A reader that stopped early leaves one HSCAN in flight: its answer (or error) is not wanted.
    if (pending) void pending.catch(() => undefined);
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
