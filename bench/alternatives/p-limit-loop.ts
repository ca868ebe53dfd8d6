/**
 * The simplest thing that could work: every device through p-limit, retrying after a 429 for
 * as long as Retry-After says and after a 5xx a few times. No shared budget, no queue.
 * Run as a child: `node p-limit-loop.js '<json>' < ids.txt`; prints one JSON summary line.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { createScanCall } from './scan-call.js';

interface Settings {
  apiUrl: string;
  token: string;
  defaultRetryAfterMs: number;
  concurrency: number;
  idsFile: string;
  /** 5xx retries per device, spaced by `backoffMs` × 2^n. */
  attempts: number;
  backoffMs: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const ids = readFileSync(settings.idsFile, 'utf8').split('\n').filter(Boolean);
const scan = createScanCall(settings);
const limit = pLimit(settings.concurrency);
const summary = { created: 0, failed: 0, throttled: 0, transient: 0 };

async function scanOne(machineId: string): Promise<void> {
  for (let attempt = 0; ;) {
    const outcome = await scan(machineId);
    if (outcome.kind === 'created') {
      summary.created++;
      return;
    }
    if (outcome.kind === 'throttled') {
      summary.throttled++;
      await sleep(outcome.retryAfterMs);
      continue;
    }
    if (outcome.kind === 'transient' && ++attempt < settings.attempts) {
      summary.transient++;
      await sleep(settings.backoffMs * 2 ** attempt);
      continue;
    }
    summary.failed++;
    return;
  }
}

await Promise.all(ids.map((id) => limit(scanOne, id)));
process.stdout.write(`${JSON.stringify(summary)}\n`);
