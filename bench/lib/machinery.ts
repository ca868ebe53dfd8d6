import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { usedMemory, paths, type BenchContext } from './context.js';
import { fleetscanEnv, runScanCommand } from './fleetscan-runner.js';
import { runChild, type ProcessCost } from './processes.js';
import { UNTHROTTLED, machineId, writeIdsFile } from './sim-harness.js';

/** One enqueue of `devices` ids from a file, by fleetscan's scan command or raw addBulk. */
export interface EnqueueRun {
  path: 'fleetscan scan' | 'raw BullMQ addBulk';
  devices: number;
  /** Wall time of the child process, start to exit (Node start included for both). */
  elapsedMs: number;
  /** used_memory after minus before, divided by the devices. */
  bytesPerDevice: number;
  /** Peak RSS of the enqueuing process: streaming keeps it flat whatever the file size. */
  cost: ProcessCost | null;
}

/** A device file of `count` deterministic ids, written once per size into the scratch folder. */
export async function deviceFile(ctx: BenchContext, count: number, offset = 0): Promise<string> {
  const file = join(ctx.workDir, `ids-${count}-${offset}.txt`);
  await writeIdsFile(file, count, (i) => machineId(offset + i));
  return file;
}

/** Settings of a fleetscan child that never calls the API (enqueue only). */
export function offlineFleetscanEnv(ctx: BenchContext, prefix: string): NodeJS.ProcessEnv {
  return fleetscanEnv({
    redisUrl: ctx.redisUrl,
    prefix,
    apiUrl: 'http://127.0.0.1:9',
    token: 'not-used',
    factor: 1,
    windows: UNTHROTTLED,
    guardMs: 0,
    workDir: ctx.workDir,
  });
}

async function measured<T>(
  admin: Redis,
  work: () => Promise<T>,
): Promise<{ value: T; bytes: number }> {
  const before = await usedMemory(admin);
  const value = await work();
  return { value, bytes: (await usedMemory(admin)) - before };
}

/** `fleetscan scan --devices FILE --json` into an empty Redis. */
export async function enqueueWithFleetscan(
  ctx: BenchContext,
  file: string,
  devices: number,
  prefix: string,
) {
  const env = offlineFleetscanEnv(ctx, prefix);
  const timeoutMs = 60_000 + devices * 2;
  let cost: ProcessCost | null = null;
  const { value, bytes } = await measured(ctx.admin, async () => {
    const scan = await runScanCommand(env, file, `enqueue ${devices}`, timeoutMs);
    cost = scan.cost;
    return scan;
  });
  const run: EnqueueRun = {
    path: 'fleetscan scan',
    devices,
    elapsedMs: value.elapsedMs,
    bytesPerDevice: bytes / devices,
    cost,
  };
  return { run, campaignId: value.campaignId, env };
}

/** Raw BullMQ `addBulk` of the same ids, 1,000 per call (the pipeline's chunk), same job ids. */
export async function enqueueWithRawBullmq(
  ctx: BenchContext,
  file: string,
  devices: number,
  prefix: string,
  queue: string,
): Promise<EnqueueRun> {
  const settings = {
    redisUrl: ctx.redisUrl,
    prefix,
    queue,
    file,
    campaignId: 'c-rawbullmq0001',
    chunk: 1_000,
  };
  const { value, bytes } = await measured(ctx.admin, () =>
    runChild(
      process.execPath,
      [paths.rawEnqueue, JSON.stringify(settings)],
      process.env,
      'raw enqueue',
      60_000 + devices * 2,
    ),
  );
  return {
    path: 'raw BullMQ addBulk',
    devices,
    elapsedMs: value.elapsedMs,
    bytesPerDevice: bytes / devices,
    cost: value.cost,
  };
}
