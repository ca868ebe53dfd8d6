import type { Redis } from 'ioredis';
import type { DeviceRecord } from './campaign.js';

const BATCH = 1_000;

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

/** Sets `hostname` on each record (null when none is known), one HMGET per call. */
export async function attachHostnames(
  redis: Redis,
  key: string,
  devices: DeviceRecord[],
): Promise<DeviceRecord[]> {
  if (devices.length === 0) return devices;
  const names = await redis.hmget(key, ...devices.map((d) => d.machineId));
  devices.forEach((device, i) => {
    device.hostname = names[i] ?? null;
  });
  return devices;
}

/** `iterateDevices` with host names, looked up a batch at a time. */
export async function* withHostnames(
  redis: Redis,
  key: string,
  devices: AsyncIterable<DeviceRecord>,
): AsyncIterable<DeviceRecord> {
  let batch: DeviceRecord[] = [];
  for await (const device of devices) {
    batch.push(device);
    if (batch.length >= BATCH) {
      yield* await attachHostnames(redis, key, batch);
      batch = [];
    }
  }
  yield* await attachHostnames(redis, key, batch);
}
