import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { SCAN_QUEUE_NAME, type ScanJobData } from './scan-job.js';

/** Entries kept in the queue's event stream (`${prefix}:scans:events`). */
export const SCAN_EVENTS_MAX_LEN = 1_000;

export type ScanQueue = Queue<ScanJobData>;

/**
 * Job options of every scan job. Attempts and backoff are for transient failures only (busy
 * devices and 429s spend none: the processor delays those itself). Jobs vanish when done: the
 * campaign store is the record, so Redis holds nothing per finished device but its store entry.
 */
export function scanJobOptions(config: Pick<Config, 'scan'>): JobsOptions {
  return {
    attempts: config.scan.attempts,
    // Half the delay is random, so devices that failed together do not come back together.
    backoff: { type: 'exponential', delay: config.scan.backoff, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * The one queue all campaigns share (`scans`, BullMQ prefix = `config.redis.prefix`). `connection`
 * is reused, not duplicated; the caller closes it after `queue.close()`.
 */
export function createScanQueue(
  config: Pick<Config, 'redis' | 'scan'>,
  connection: Redis,
): ScanQueue {
  return new Queue<ScanJobData>(SCAN_QUEUE_NAME, {
    connection,
    prefix: config.redis.prefix,
    defaultJobOptions: scanJobOptions(config),
    // BullMQ's event stream keeps 10,000 entries (~2 MB) by default; nothing here reads it (the
    // campaign store is the record), so a short one keeps Redis near 1 KB per waiting device.
    streams: { events: { maxLen: SCAN_EVENTS_MAX_LEN } },
  });
}
