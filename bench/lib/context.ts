import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

export interface BenchOptions {
  /** Opt-in sizes that take long (50,000-device efficiency run, alternatives at 5,000). */
  large: boolean;
  /** A seconds-long version, for CI to keep the bench from rotting. */
  smoke: boolean;
}

/** What every scenario gets: a private Redis, a scratch folder, progress output. */
export interface BenchContext {
  redisUrl: string;
  /** For FLUSHALL, INFO and polling; scenarios never share it with BullMQ. */
  admin: Redis;
  options: BenchOptions;
  workDir: string;
  progress(message: string): void;
  /**
   * A campaign a scenario left queued for the next one (the enqueue scenario's 1,000,000
   * devices, adopted by the incident scenario instead of enqueueing them a second time).
   */
  queuedFleet: QueuedFleet | null;
}

export interface QueuedFleet {
  prefix: string;
  campaignId: string;
  devices: number;
  /** How long `fleetscan scan` took to enqueue it. */
  enqueueMs: number;
}

/** Compiled entry points, found from this file so `dist/bench/lib` resolves `dist/...`. */
export const paths = {
  cli: fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)),
  bullmqWorker: fileURLToPath(new URL('../alternatives/bullmq-worker.js', import.meta.url)),
  pLimitLoop: fileURLToPath(new URL('../alternatives/p-limit-loop.js', import.meta.url)),
  rawEnqueue: fileURLToPath(new URL('../alternatives/raw-enqueue.js', import.meta.url)),
};

/** Empties the private Redis so each measurement starts from the same state. */
export async function resetRedis(ctx: BenchContext): Promise<void> {
  await ctx.admin.flushall('SYNC');
  ctx.queuedFleet = null;
}

/** `used_memory` from INFO memory: what the keys and buffers take, in bytes. */
export async function usedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match?.[1]) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

export async function redisVersion(admin: Redis): Promise<string> {
  const info = await admin.info('server');
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}
