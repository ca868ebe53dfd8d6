import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

export interface StallReport {
  /** Longest PING round trip seen by a separate client process (includes OS scheduling). */
  pingMaxMs: number;
  pings: number;
  /** PINGs that waited more than 5 ms. */
  pingsOver5ms: number;
  /** Longest single command Redis executed (SLOWLOG, µs → ms), and which. */
  slowestCommandMs: number;
  slowestCommand: string;
  /** Commands that ran longer than 1 ms. */
  commandsOver1ms: number;
  /** The five slowest, `NAME ms` (to tell a heavy command from the OS descheduling Redis). */
  slowest5: string[];
  /** HSCAN calls and their mean execution time (INFO commandstats, µs → ms); 0 when none ran. */
  hscanCalls: number;
  hscanMeanMs: number;
}

/** Calls and mean µs of one command from INFO commandstats. */
function commandStats(info: string, command: string): { calls: number; usecPerCall: number } {
  const match = new RegExp(
    `^cmdstat_${command}:calls=(\\d+),usec=\\d+,usec_per_call=([\\d.]+)`,
    'm',
  ).exec(info);
  return { calls: Number(match?.[1] ?? 0), usecPerCall: Number(match?.[2] ?? 0) };
}

const PROBE = fileURLToPath(new URL('./ping-probe.js', import.meta.url));

/**
 * Measures what `work` does to everyone else using Redis: a PING probe in its own process, and
 * SLOWLOG (every command over 100 µs) for the execution time of single commands.
 */
export async function measureStalls<T>(
  admin: Redis,
  url: string,
  work: () => Promise<T>,
): Promise<{ result: T; stalls: StallReport }> {
  await admin.config('SET', 'slowlog-log-slower-than', '100');
  await admin.config('SET', 'slowlog-max-len', '100000');
  await admin.slowlog('RESET');
  await admin.config('RESETSTAT');
  const probe = spawn(process.execPath, [PROBE, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  probe.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    const check = setInterval(() => {
      if (out.includes('ready\n')) {
        clearInterval(check);
        resolve();
      }
    }, 10);
  });
  let result: T;
  try {
    result = await work();
  } finally {
    probe.stdin.end('stop\n');
  }
  await new Promise((resolve) => probe.once('close', resolve));
  const probed = JSON.parse(out.split('\n').filter(Boolean).at(-1) ?? '{}') as {
    maxMs: number;
    pings: number;
    over5: number;
  };
  const entries = (await admin.slowlog('GET', 100_000)) as [number, number, number, string[]][];
  let slowest: [number, number, number, string[]] | undefined;
  for (const entry of entries) if (!slowest || entry[2] > slowest[2]) slowest = entry;
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  const hscan = commandStats(await admin.info('commandstats'), 'hscan');
  return {
    result,
    stalls: {
      pingMaxMs: probed.maxMs,
      pings: probed.pings,
      pingsOver5ms: probed.over5,
      slowestCommandMs: (slowest?.[2] ?? 0) / 1_000,
      slowestCommand: slowest ? (slowest[3][0] ?? '?').toUpperCase() : '–',
      commandsOver1ms: entries.filter((e) => e[2] > 1_000).length,
      slowest5: [...entries]
        .sort((a, b) => b[2] - a[2])
        .slice(0, 5)
        .map((e) => `${(e[3][0] ?? '?').toUpperCase()} ${(e[2] / 1_000).toFixed(1)} ms`),
      hscanCalls: hscan.calls,
      hscanMeanMs: hscan.usecPerCall / 1_000,
    },
  };
}
