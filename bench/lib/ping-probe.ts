/**
 * A separate process that PINGs Redis back to back and reports the longest round trip: how long
 * any client had to wait for Redis while something else was running. Started by the retention
 * scenario; `stop` on stdin makes it print one JSON line and exit.
 */
import { Redis } from 'ioredis';

const url = process.argv[2];
if (!url) throw new Error('usage: ping-probe <redis-url>');
const redis = new Redis(url, { enableAutoPipelining: false });
const state = { stopped: false };
let maxMs = 0;
let pings = 0;
let over5 = 0;
// `stop`, or the parent gone (stdin closed): either ends the probe.
for (const event of ['data', 'end'] as const) {
  process.stdin.on(event, () => {
    state.stopped = true;
  });
}
// Warm up (connection, JIT) before the measurement starts.
for (let i = 0; i < 200; i++) await redis.ping();
process.stdout.write('ready\n');
while (!state.stopped) {
  const started = performance.now();
  await redis.ping();
  const ms = performance.now() - started;
  pings += 1;
  if (ms > 5) over5 += 1;
  if (ms > maxMs) maxMs = ms;
  // Yield so the stop message is seen; ~2,000 pings a second is plenty.
  await new Promise((resolve) => setTimeout(resolve, 0));
}
process.stdout.write(`${JSON.stringify({ maxMs, pings, over5 })}\n`);
redis.disconnect();
