import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/shared/package-root.js';
import { ensureBuilt } from '../helpers/cli.js';

/**
 * The small version of `npm run chaos` (issue 9): every fault scenario against real processes,
 * its own redis-server and the simulator, 60 devices at time ×20. The rows come from the
 * simulator's action log, so a device scanned twice or never shows here whatever the store says.
 */
const CHAOS = join(packageRoot(), 'dist', 'bench', 'chaos', 'run.js');
const SCENARIOS = [
  'redis-kill-aof',
  'redis-empty-rerun',
  'aof-rollback-1s',
  'worker-sigkill-3s',
  'sigterm-all',
  'redis-down-status-wait',
  'secret-revoked',
  'static-token-expired',
  'server-cap-60',
] as const;

interface Row {
  lost: number;
  scannedTwice: number;
  failed: number;
  throttled: number;
  finished: boolean;
  note: string;
}

function parseRow(table: string, scenario: string): Row {
  const line = table.split('\n').find((l) => l.startsWith(`| ${scenario} |`));
  if (!line) throw new Error(`chaos printed no row for ${scenario}:\n${table}`);
  const cells = line.split('|').map((c) => c.trim());
  // | scenario | devices | lost | scanned twice | failed | 429s | finished | s | note |
  return {
    lost: Number(cells[3]),
    scannedTwice: Number(cells[4]),
    failed: Number(cells[5]),
    throttled: Number(cells[6]),
    finished: cells[7] === 'yes',
    note: cells[9] ?? '',
  };
}

function runChaos(
  scenario: string,
  resultsDir: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHAOS, '--smoke', '--results', resultsDir, scenario], {
      cwd: packageRoot(),
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, out });
    });
  });
}

describe('npm run chaos --smoke (issue 9)', () => {
  let resultsDir = '';
  beforeAll(async () => {
    await ensureBuilt();
    resultsDir = mkdtempSync(join(tmpdir(), 'fleetscan-chaos-'));
  }, 240_000);
  afterAll(() => {
    rmSync(resultsDir, { recursive: true, force: true });
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario}: 0 lost, 0 scanned twice, 0 failed`, async () => {
      const { code, out } = await runChaos(scenario, resultsDir);
      const row = parseRow(readFileSync(join(resultsDir, 'chaos-smoke.md'), 'utf8'), scenario);
      expect(row, out).toMatchObject({ lost: 0, scannedTwice: 0, failed: 0, finished: true });
      if (scenario !== 'server-cap-60') expect(row.throttled, out).toBe(0);
      expect(code, out).toBe(0);
    }, 300_000);
  }
});
