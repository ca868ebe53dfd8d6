import type { CheckGroup, CheckResult, CheckStatus } from './check-result.js';

const MARK: Readonly<Record<CheckStatus, string>> = { ok: '✔', warn: '⚠', fail: '✖' };
const HEADINGS: Readonly<Record<CheckGroup, string>> = {
  config: 'Configuration',
  redis: 'Redis',
  tenant: 'Tenant',
  throttling: 'Throttling',
};

/** Exit 1 when any check failed; warnings alone leave it 0. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** The counts line: `12 ok, 2 warnings, 1 failure`. */
export function doctorTally(results: readonly CheckResult[]): string {
  const n = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  const plural = (count: number, word: string) =>
    `${String(count)} ${word}${count === 1 ? '' : 's'}`;
  return `${String(n('ok'))} ok, ${plural(n('warn'), 'warning')}, ${plural(n('fail'), 'failure')}`;
}

/**
 * The human report: a heading per group (per tenant for tenant checks), one line per check, and
 * under every ⚠ and ✖ its fix. Pure: the same results give the same text.
 */
export function renderDoctor(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  let heading = '';
  for (const result of results) {
    const next =
      result.group === 'tenant' || result.group === 'throttling'
        ? `${HEADINGS[result.group]} ${result.tenant ?? ''}`.trim()
        : HEADINGS[result.group];
    if (next !== heading) {
      if (lines.length > 0) lines.push('');
      lines.push(next);
      heading = next;
    }
    lines.push(`  ${MARK[result.status]} ${result.summary}`);
    if (result.fix && result.status !== 'ok') lines.push(`      fix: ${result.fix}`);
  }
  lines.push('', doctorTally(results));
  return `${lines.join('\n')}\n`;
}
