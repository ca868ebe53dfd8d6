import { readFileSync } from 'node:fs';
import type { ConfigIssue } from './load.js';
import {
  INLINE_SECRET_KEYS,
  type TenantEntry,
  type TenantEntryInput,
  type TenantSecrets,
} from './tenants-schema.js';

/**
 * Refuses secrets written inline in a `tenants:` entry before the schema sees them, so the error
 * says what to write instead (the strict schema alone would only say "unrecognized key").
 */
export function findInlineSecrets(raw: unknown): ConfigIssue[] {
  if (!Array.isArray(raw)) return [];
  const issues: ConfigIssue[] = [];
  raw.forEach((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) return;
    for (const key of Object.keys(entry)) {
      const instead = INLINE_SECRET_KEYS[key];
      if (instead === undefined) continue;
      issues.push({
        path: `tenants.${String(index)}.${key}`,
        source: 'configuration file',
        message: `Secrets are accepted by reference only (value not shown): use ${instead}`,
      });
    }
  });
  return issues;
}

/** The trimmed value of the variable `name`; an issue at `path` when it is unset or blank. */
export function secretFromEnv(
  path: string,
  name: string | null | undefined,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): string | undefined {
  if (name === undefined || name === null) return undefined;
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    issues.push({ path, source: name, message: `The environment variable ${name} is not set` });
    return undefined;
  }
  return value.trim();
}

/** The trimmed content of the file `file`; an issue at `path` when it is unreadable or empty. */
export function secretFromFile(
  path: string,
  file: string | null | undefined,
  readFile: (path: string) => string,
  issues: ConfigIssue[],
): string | undefined {
  if (file === undefined || file === null) return undefined;
  try {
    const value = readFile(file).trim();
    if (value !== '') return value;
    issues.push({ path, source: file, message: 'The file is empty' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({ path, source: file, message: `Cannot read the file (${code})` });
  }
  return undefined;
}

/**
 * Reads every tenant's secret from the variable or file it names. Issues name the tenant's key
 * and the variable or file, never a value.
 */
export function resolveTenantSecrets(
  tenants: readonly TenantEntryInput[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): { tenants: TenantEntry[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const fromEnv = (index: number, key: string, name: string | undefined) =>
    secretFromEnv(`tenants.${String(index)}.${key}`, name, env, issues);
  const fromFile = (index: number, key: string, path: string | undefined) =>
    secretFromFile(`tenants.${String(index)}.${key}`, path, readFile, issues);
  const resolved = tenants.map((tenant, index): TenantEntry => {
    const secrets: TenantSecrets = {
      clientSecret:
        fromEnv(index, 'clientSecretEnv', tenant.clientSecretEnv) ??
        fromFile(index, 'clientSecretFile', tenant.clientSecretFile),
      certificatePassword: fromEnv(index, 'certificatePasswordEnv', tenant.certificatePasswordEnv),
      accessToken: fromEnv(index, 'accessTokenEnv', tenant.accessTokenEnv),
    };
    return { ...tenant, secrets };
  });
  const seen = new Map<string, number>();
  tenants.forEach((tenant, index) => {
    if (tenant.name === 'default') {
      issues.push({
        path: `tenants.${String(index)}.name`,
        source: 'configuration file',
        message: '"default" is the tenant of the MDE_* variables; choose another name',
      });
    }
    const first = seen.get(tenant.name);
    if (first !== undefined) {
      issues.push({
        path: `tenants.${String(index)}.name`,
        source: 'configuration file',
        message: `"${tenant.name}" is already the name of tenants.${String(first)}`,
      });
    }
    seen.set(tenant.name, index);
  });
  return { tenants: resolved, issues };
}
