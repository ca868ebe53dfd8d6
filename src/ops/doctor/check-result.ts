/** ✔ / ⚠ / ✖ */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The part of the setup a check looks at. */
export type CheckGroup = 'config' | 'redis' | 'tenant' | 'throttling';

/** One line of `fleetscan doctor`: what was checked, how it went, and for ⚠/✖ the fix. */
export interface CheckResult {
  group: CheckGroup;
  /** Stable id for `--json` readers, e.g. `redis.eviction`, `tenant.permission.scan`. */
  id: string;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** One sentence that fixes it; present for every ⚠ and ✖. */
  fix?: string;
  /** Set on per-tenant checks. */
  tenant?: string;
}

export function ok(group: CheckGroup, id: string, summary: string): CheckResult {
  return { group, id, status: 'ok', summary };
}

export function warn(group: CheckGroup, id: string, summary: string, fix: string): CheckResult {
  return { group, id, status: 'warn', summary, fix };
}

export function fail(group: CheckGroup, id: string, summary: string, fix: string): CheckResult {
  return { group, id, status: 'fail', summary, fix };
}
