import type { TestProject } from 'vitest/node';
import { obtainRedis, type RedisHandle } from '../../src/shared/redis-server.js';

let handle: RedisHandle | undefined;

/**
 * Finds (or starts) one Redis for the whole run and hands its URL to every test file.
 * Tests that need Redis fail loudly when there is none; they never skip.
 */
export async function setup(project: TestProject): Promise<void> {
  handle = await obtainRedis();
  project.provide('redisUrl', handle.url);
}

export async function teardown(): Promise<void> {
  await handle?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
