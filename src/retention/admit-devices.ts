import type { MemoryHeadroom, MemorySettings } from './memory-headroom.js';
import { formatBytes } from './memory-headroom.js';

/** Redis cannot hold the campaign's records: refused before anything was created or queued. */
export class RedisMemoryFullError extends Error {
  override name = 'RedisMemoryFullError';
  /** Retryable once campaigns are archived or Redis has more memory, not by repeating. */
  readonly retryable = false;
  readonly devices: number;
  constructor(message: string, devices: number) {
    super(message);
    this.devices = devices;
  }
}

/**
 * Reads a scan's device chunks ahead until the source ends or they exceed the room Redis has
 * left; throws `RedisMemoryFullError` in the second case, before the campaign exists. The ids
 * read ahead are held in memory (at most `roomDevices` of them). Returns the chunks to enqueue.
 */
export async function admitDevices(
  chunks: AsyncIterable<string[]>,
  headroom: MemoryHeadroom,
  settings: Pick<MemorySettings, 'bytesPerDevice'>,
): Promise<AsyncIterable<string[]>> {
  const room = headroom.roomDevices;
  if (room === null) return chunks;
  const buffered: string[][] = [];
  let devices = 0;
  for await (const chunk of chunks) {
    buffered.push(chunk);
    devices += chunk.length;
    if (devices > room) {
      throw new RedisMemoryFullError(
        `Refused: this campaign has more than ${room.toLocaleString('en-US')} devices, the most Redis has room for ` +
          `(at least ${devices.toLocaleString('en-US')} devices × ${formatBytes(settings.bytesPerDevice)}). ` +
          `${headroom.message}. Nothing was created or queued.`,
        devices,
      );
    }
  }
  return toAsync(buffered);
}

async function* toAsync(chunks: readonly string[][]): AsyncIterable<string[]> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}
