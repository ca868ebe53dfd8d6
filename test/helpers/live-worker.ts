import type { Redis } from 'ioredis';
import {
  startHeartbeat,
  WORKER_HEARTBEAT_MS,
  type Heartbeat,
} from '../../src/ops/worker-presence.js';

/** A live worker's heartbeat for tenant `default`, as `fleetscan worker` writes it: an ETA needs one. */
export function liveWorker(redis: Redis, prefix: string): Heartbeat {
  return startHeartbeat(
    redis,
    prefix,
    { host: 'e2e', pid: 1, concurrency: 8, tenants: ['default'], startedAt: Date.now() },
    { intervalMs: WORKER_HEARTBEAT_MS },
  );
}
