import type { Redis } from '../shared/redis.js';
import type { DeviceRecord } from './campaign.js';
import { DEVICE_SCAN_COUNT } from './device-scan.js';

/** Names per HSET when saving (once, at intake). */
const BATCH = 1_000;
/** Names per HMGET when reading: short commands, as for HSCAN (`DEVICE_SCAN_COUNT`). */
const READ_BATCH = DEVICE_SCAN_COUNT;

/**
 * Host names live in a hash of their own (`…:hostnames`, machineId → name), beside the device
 * records: they are shown, never decided on, so the device codec and the Lua transitions stay
 * as they are, and a campaign without names costs nothing.
 */
export async function saveHostnames(
  redis: Redis,
  key: string,
  names: ReadonlyMap<string, string>,
): Promise<void> {
  const entries = [...names];
  for (let i = 0; i < entries.length; i += BATCH) {
    await redis.hset(key, Object.fromEntries(entries.slice(i, i + BATCH)));
  }
}

/** Sets `hostname` on each record (null when none is known), one HMGET per `READ_BATCH`. */
export async function attachHostnames(
  redis: Redis,
  key: string,
  devices: DeviceRecord[],
): Promise<DeviceRecord[]> {
  const lookups: Promise<void>[] = [];
  for (let start = 0; start < devices.length; start += READ_BATCH) {
    const batch = devices.slice(start, start + READ_BATCH);
    lookups.push(
      redis.hmget(key, ...batch.map((d) => d.machineId)).then((names) => {
        batch.forEach((device, i) => {
          device.hostname = names[i] ?? null;
        });
      }),
    );
  }
  await Promise.all(lookups);
  return devices;
}

/**
 * `iterateDevices` with host names, looked up a batch at a time. A campaign whose source had no
 * names has no hash: then no lookup is made at all (one round trip per batch saved).
 */
export async function* withHostnames(
  redis: Redis,
  key: string,
  devices: AsyncIterable<DeviceRecord>,
): AsyncIterable<DeviceRecord> {
  if ((await redis.exists(key)) === 0) {
    for await (const device of devices) {
      device.hostname = null;
      yield device;
    }
    return;
  }
  let batch: DeviceRecord[] = [];
  for await (const device of devices) {
    batch.push(device);
    if (batch.length >= READ_BATCH) {
      yield* await attachHostnames(redis, key, batch);
      batch = [];
    }
  }
  yield* await attachHostnames(redis, key, batch);
}
