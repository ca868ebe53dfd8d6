/**
 * Raw BullMQ `addBulk` of the ids in a file, the yardstick for fleetscan's enqueue: same job
 * ids, data and removal options as the pipeline, nothing else (no campaign store, no checks).
 * Run as a child: `node raw-enqueue.js '<json>'`; prints `{"count","elapsedMs"}`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

interface Settings {
  redisUrl: string;
  prefix: string;
  queue: string;
  file: string;
  campaignId: string;
  chunk: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const started = performance.now();
const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(settings.queue, { connection, prefix: settings.prefix });
const opts = { removeOnComplete: true, removeOnFail: true };

let batch: { name: string; data: { campaignId: string; machineId: string }; opts: object }[] = [];
let count = 0;
for await (const line of createInterface({ input: createReadStream(settings.file) })) {
  const machineId = line.trim();
  if (!machineId) continue;
  batch.push({
    name: 'scan',
    data: { campaignId: settings.campaignId, machineId },
    opts: { ...opts, jobId: `${settings.campaignId}.${machineId}` },
  });
  if (batch.length >= settings.chunk) {
    await queue.addBulk(batch);
    count += batch.length;
    batch = [];
  }
}
if (batch.length > 0) {
  await queue.addBulk(batch);
  count += batch.length;
}
await queue.close();
connection.disconnect();
process.stdout.write(`${JSON.stringify({ count, elapsedMs: performance.now() - started })}\n`);
