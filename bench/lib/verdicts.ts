import type { Table } from './report.js';

/** One target of an issue's "Done when", judged against what a run measured. */
export interface Verdict {
  check: string;
  target: string;
  measured: string;
  pass: boolean;
}

/** The verdicts as a table, the first thing a reader of the scenario sees. */
export function verdictTable(title: string, verdicts: readonly Verdict[]): Table {
  return {
    title,
    columns: ['check', 'target', 'measured', 'verdict'],
    rows: verdicts.map((v) => [v.check, v.target, v.measured, v.pass ? 'pass' : 'FAIL']),
  };
}

/** `PASS` or `FAIL (n of m)`, for the progress line. */
export function overallVerdict(verdicts: readonly Verdict[]): string {
  const failed = verdicts.filter((v) => !v.pass).length;
  return failed === 0 ? 'PASS' : `FAIL (${failed} of ${verdicts.length} checks)`;
}

/** `0.12 %` from a ratio. */
export const percent = (ratio: number | null, digits = 2): string =>
  ratio === null || !Number.isFinite(ratio) ? '–' : `${(ratio * 100).toFixed(digits)} %`;
