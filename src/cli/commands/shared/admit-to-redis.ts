import type { Config } from '../../../config/schema.js';
import { admitDevices, RedisMemoryFullError } from '../../../retention/admit-devices.js';
import { memoryHeadroom } from '../../../retention/memory-headroom.js';
import type { Redis } from '../../../shared/redis.js';
import { UsageError } from '../../errors.js';

/**
 * `scan`'s memory check: reads the devices ahead and refuses (exit 1, nothing created) when their
 * records would take Redis above `retention.memory.refuseAt`, instead of failing half-way.
 */
export async function admitToRedis(
  chunks: AsyncIterable<string[]>,
  deps: { config: Pick<Config, 'retention'>; redis: Redis },
): Promise<AsyncIterable<string[]>> {
  const settings = deps.config.retention.memory;
  const headroom = await memoryHeadroom(deps.redis, settings);
  try {
    return await admitDevices(chunks, headroom, settings);
  } catch (error) {
    if (error instanceof RedisMemoryFullError)
      throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
