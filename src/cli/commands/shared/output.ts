import { formatDuration } from '../../../config/duration.js';

/** Prints JSON on stdout, one object, newline-terminated. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned text columns, two spaces apart; numbers right-aligned. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[\d,.]+$/.test(r[i] ?? '')),
  );
  return all
    .map((row) =>
      row
        .map((cell, i) =>
          numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `[#########.........]  45%` */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export function describeEta(ms: number | null): string {
  if (ms === null) return 'n/a';
  if (ms <= 0) return 'now (the budget has room for every remaining device)';
  return `~${formatDuration(ms)} (at ${new Date(Date.now() + ms).toISOString().slice(0, 19)}Z)`;
}
