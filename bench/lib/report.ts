/** What one scenario hands back: tables for people, figures for machines, notes on method. */
export type Cell = string | number | null;

export interface Table {
  title: string;
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
}

export interface ScenarioResult {
  scenario: string;
  /** How it was measured and what a reader must know to trust (or not) the figures. */
  notes: readonly string[];
  tables: readonly Table[];
  /** Raw figures, kept in the JSON file. */
  data: unknown;
  elapsedMs: number;
}

export interface BenchEnvironment {
  date: string;
  cores: number;
  cpuModel: string;
  node: string;
  redis: string;
  bullmq: string;
  platform: string;
  /** 1-minute load average when the run started: a busy host makes absolute times meaningless. */
  loadAverage: number;
  args: readonly string[];
}

/** `0.973` → `0.97`; null → `–`. */
export function formatRatio(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '–' : value.toFixed(2);
}

/** Thousands separators, as in the issue's `1,500`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Real (uncompressed) milliseconds: `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1_000);
  const minutes = Math.floor(totalSeconds / 60);
  return `${minutes} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
}

/** Simulated API time, in the units of the floor: `45 s`, `3 min`, `1 min 34 s`, `3 h 04 min`. */
export function formatApiTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) {
    const totalSeconds = Math.round(ms / 1_000);
    const seconds = totalSeconds % 60;
    const minutes = `${Math.floor(totalSeconds / 60)} min`;
    return seconds === 0 ? minutes : `${minutes} ${String(seconds).padStart(2, '0')} s`;
  }
  const totalMinutes = Math.round(ms / 60_000);
  const hours = Math.floor(totalMinutes / 60);
  return `${hours} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes)) return '–';
  const abs = Math.abs(bytes);
  if (abs < 10_000) return `${Math.round(bytes)} B`;
  if (abs < 10_000_000) return `${(bytes / 1_024).toFixed(0)} KiB`;
  return `${(bytes / 1_048_576).toFixed(0)} MiB`;
}

function cellText(cell: Cell): string {
  if (cell === null) return '–';
  return typeof cell === 'number' ? formatCount(cell) : cell;
}

/** A plain-text table for the console: columns padded, numbers right-aligned. */
export function formatTable(table: Table): string {
  const texts = table.rows.map((row) => table.columns.map((_, i) => cellText(row[i] ?? null)));
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...texts.map((row) => row[i]!.length)),
  );
  // Figures (numbers, `3 min`, `0.97`, `–`) read best right-aligned, names left-aligned.
  const numeric = table.columns.map((_, i) => texts.every((row) => /^[–\d]/.test(row[i]!)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [table.title, line(table.columns), rule, ...texts.map(line)].join('\n');
}

/** A GitHub-flavoured Markdown table; pipes in cells are escaped. */
export function markdownTable(table: Table): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const header = `| ${table.columns.map(escape).join(' | ')} |`;
  const rule = `|${table.columns.map(() => '---').join('|')}|`;
  const rows = table.rows.map(
    (row) => `| ${table.columns.map((_, i) => escape(cellText(row[i] ?? null))).join(' | ')} |`,
  );
  return [`**${table.title}**`, '', header, rule, ...rows].join('\n');
}

/** One scenario's result with the machine and moment it was measured on. */
export interface ScenarioRun {
  env: BenchEnvironment;
  result: ScenarioResult;
}

/**
 * `bench/results/latest.md`: the machine first, then each scenario's tables and notes. Runs of
 * single scenarios replace their own section only, so each section names its own run.
 */
export function renderMarkdown(runs: readonly ScenarioRun[]): string {
  const newest = [...runs].sort((a, b) => b.env.date.localeCompare(a.env.date))[0];
  const lines = ['# fleetscan bench: latest results', ''];
  if (newest) {
    const env = newest.env;
    lines.push(
      `- machine: ${env.cores} cores (${env.cpuModel}), ${env.platform}`,
      `- Node ${env.node}, Redis ${env.redis}, BullMQ ${env.bullmq}`,
      '',
    );
  }
  lines.push(
    'Efficiency figures are ratios within one run; absolute times depend on the host and are not',
    'comparable across runs. "API time" is simulated time: real time × the stated time factor.',
  );
  for (const { env, result } of runs) {
    const command = `npm run bench${env.args.length > 0 ? ` -- ${env.args.join(' ')}` : ''}`;
    lines.push(
      '',
      `## ${result.scenario}`,
      '',
      `Run ${env.date} with \`${command}\` (took ${formatMs(result.elapsedMs)}; load average ` +
        `${env.loadAverage.toFixed(2)} at start, ${env.cores} cores, Node ${env.node}, Redis ${env.redis}).`,
      '',
    );
    for (const table of result.tables) lines.push(markdownTable(table), '');
    for (const note of result.notes) lines.push(`- ${note}`);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
