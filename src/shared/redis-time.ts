import type { Redis } from './redis.js';

/**
 * Redis TIME in ms: the one clock every host of a deployment shares. Use it for any time that
 * another process compares with its own (heartbeats, leases); the hosts' clocks may disagree.
 */
export async function redisTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}
