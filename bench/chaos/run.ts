/**
 * `npm run chaos [-- scenario...] [--smoke] [--results DIR]`: the faults of issue 9 against real processes (the
 * fleetscan CLI, its own redis-server instances on free ports, the simulator), time compressed.
 * Prints one row per scenario (devices lost, scanned twice, failed, 429s) and writes
 * `bench/results/chaos-latest.md`. Exits 1 when a row breaks the rule: 0 lost, 0 scanned twice,
 * 0 failed, and 429s only where the server's cap is below the configured one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/shared/package-root.js';
import { killAllChildren } from '../lib/processes.js';
import type { ChaosOutcome, ChaosSettings } from './chaos-run.js';
import { CHAOS_SCENARIOS } from './scenarios.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
// `--results DIR`: where the table goes (tests keep it out of the work tree).
const resultsAt = args.indexOf('--results');
const resultsDir = resultsAt >= 0 ? args[resultsAt + 1] : undefined;
if (resultsAt >= 0 && !resultsDir) {
  process.stderr.write('--results needs a folder, e.g. --results /tmp/chaos\n');
  process.exit(1);
}
const names = args.filter(
  (a, i) => !a.startsWith('--') && !(resultsAt >= 0 && i === resultsAt + 1),
);
for (const name of names) {
  if (!(name in CHAOS_SCENARIOS)) {
    process.stderr.write(
      `Unknown scenario ${name}; scenarios: ${Object.keys(CHAOS_SCENARIOS).join(', ')}\n`,
    );
    process.exit(1);
  }
}
const settings: ChaosSettings = smoke
  ? { devices: 200, factor: 20, workers: 2, timeoutMs: 120_000 }
  : { devices: 300, factor: 20, workers: 2, timeoutMs: 300_000 };

const ALLOWS_429 = new Set(['server-cap-60']);

export function breaksTheRule(row: ChaosOutcome): boolean {
  return (
    !row.finished ||
    row.problem !== '' ||
    row.lost > 0 ||
    row.scannedTwice > 0 ||
    row.failed > 0 ||
    (row.throttled > 0 && !ALLOWS_429.has(row.scenario))
  );
}

function table(rows: readonly ChaosOutcome[]): string {
  const head =
    '| scenario | devices | lost | scanned twice | failed | 429s | finished | s | note |';
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${String(r.devices)} | ${String(r.lost)} | ${String(r.scannedTwice)} | ${String(r.failed)} | ${String(r.throttled)} | ${r.finished ? 'yes' : 'no'} | ${(r.elapsedMs / 1000).toFixed(1)} | ${r.note} |`,
  );
  return [head, '|---|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

const rows: ChaosOutcome[] = [];
for (const name of names.length > 0 ? names : Object.keys(CHAOS_SCENARIOS)) {
  const scenario = CHAOS_SCENARIOS[name];
  if (!scenario) continue;
  process.stderr.write(`chaos: ${name} …\n`);
  try {
    const row = await scenario(settings);
    rows.push(row);
    process.stderr.write(`chaos: ${name}: ${breaksTheRule(row) ? 'FAILS' : 'ok'}\n`);
  } catch (error) {
    killAllChildren();
    rows.push({
      scenario: name, devices: settings.devices, lost: -1, scannedTwice: -1, failed: -1,
      throttled: -1, finished: false, elapsedMs: 0, note: '', problem: `error: ${(error as Error).message.split('\n')[0] ?? ''}`,
    }); // prettier-ignore
  }
}
const text = table(rows);
process.stdout.write(`${text}\n`);
const dir = resultsDir ?? join(packageRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, smoke ? 'chaos-smoke.md' : 'chaos-latest.md'),
  `# npm run chaos${smoke ? ' -- --smoke' : ''} (${new Date().toISOString()})\n\n` +
    `${String(settings.devices)} devices, time ×${String(settings.factor)}, ${String(settings.workers)} workers × 8.\n\n${text}\n`,
);
process.exitCode = rows.some(breaksTheRule) ? 1 : 0;
