import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../shared/package-root.js';
import { configSchema, SECRET_KEYS, type Config } from './schema.js';
import { resolveRedisFiles } from './redis-files.js';
import { resolveSignInSecrets } from './signin-schema.js';
import { findInlineSecrets, resolveTenantSecrets } from './tenant-secrets.js';

/** One bad configuration value: where it is, where it came from, and what is wrong. */
export interface ConfigIssue {
  path: string;
  source: string;
  message: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      `Invalid configuration:\n${issues.map((i) => `  - ${i.path} (${i.source}): ${i.message}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

type Kind = 'text' | 'int' | 'bool';

/** The environment contract; names are documented in the README and must not change. */
export const ENVIRONMENT: Readonly<Record<string, { path: string; kind: Kind }>> = {
  REDIS_URL: { path: 'redis.url', kind: 'text' },
  FLEETSCAN_PREFIX: { path: 'redis.prefix', kind: 'text' },
  FLEETSCAN_REQUIRE_NOEVICTION: { path: 'redis.requireNoEviction', kind: 'bool' },
  FLEETSCAN_BUDGET_PREFIX: { path: 'redis.budgetPrefix', kind: 'text' },
  FLEETSCAN_REDIS_OUTAGE_TOLERANCE: { path: 'redis.outageTolerance', kind: 'text' },
  FLEETSCAN_REDIS_USERNAME: { path: 'redis.username', kind: 'text' },
  REDIS_PASSWORD: { path: 'redis.password', kind: 'text' },
  FLEETSCAN_REDIS_PASSWORD_FILE: { path: 'redis.passwordFile', kind: 'text' },
  FLEETSCAN_REDIS_CA_FILE: { path: 'redis.tls.caFile', kind: 'text' },
  FLEETSCAN_REDIS_CERT_FILE: { path: 'redis.tls.certFile', kind: 'text' },
  FLEETSCAN_REDIS_KEY_FILE: { path: 'redis.tls.keyFile', kind: 'text' },
  MDE_CLOUD: { path: 'defender.cloud', kind: 'text' },
  MDE_API_URL: { path: 'defender.apiUrl', kind: 'text' },
  MDE_AUTHORITY_HOST: { path: 'defender.authorityHost', kind: 'text' },
  MDE_TOKEN_SCOPE: { path: 'defender.tokenScope', kind: 'text' },
  MDE_TENANT_ID: { path: 'defender.tenantId', kind: 'text' },
  MDE_CLIENT_ID: { path: 'defender.clientId', kind: 'text' },
  MDE_CLIENT_SECRET: { path: 'defender.clientSecret', kind: 'text' },
  MDE_CERTIFICATE_PATH: { path: 'defender.certificatePath', kind: 'text' },
  MDE_CERTIFICATE_PASSWORD: { path: 'defender.certificatePassword', kind: 'text' },
  MDE_ACCESS_TOKEN: { path: 'defender.accessToken', kind: 'text' },
  MDE_AUTH: { path: 'defender.auth', kind: 'text' },
  FLEETSCAN_TOKEN_CACHE: { path: 'defender.tokenCachePath', kind: 'text' },
  GRAPH_API_URL: { path: 'hunting.graphUrl', kind: 'text' },
  GRAPH_ACCESS_TOKEN: { path: 'hunting.accessToken', kind: 'text' },
  FLEETSCAN_HUNTING_LIMITS: { path: 'hunting.windows', kind: 'text' },
  FLEETSCAN_RATE_LIMITS: { path: 'limits.windows', kind: 'text' },
  FLEETSCAN_RATE_GUARD: { path: 'limits.guard', kind: 'text' },
  FLEETSCAN_RATE_RESERVE: { path: 'limits.reserve', kind: 'text' },
  FLEETSCAN_BUDGET_SCOPE: { path: 'limits.budgetScope', kind: 'text' },
  FLEETSCAN_PENDING_RETRY: { path: 'scan.pendingRetry', kind: 'text' },
  FLEETSCAN_PENDING_RETRY_CAP: { path: 'scan.pendingRetryCap', kind: 'text' },
  FLEETSCAN_PENDING_MAX_WAIT: { path: 'scan.pendingMaxWait', kind: 'text' },
  FLEETSCAN_CONCURRENCY: { path: 'worker.concurrency', kind: 'int' },
  LOG_LEVEL: { path: 'log.level', kind: 'text' },
  FLEETSCAN_ARCHIVE_DIR: { path: 'retention.archiveDir', kind: 'text' },
  LOG_FORMAT: { path: 'log.format', kind: 'text' },
  FLEETSCAN_DASHBOARD_TOKEN: { path: 'dashboard.token', kind: 'text' },
  FLEETSCAN_DASHBOARD_USER: { path: 'dashboard.user', kind: 'text' },
  FLEETSCAN_DASHBOARD_PASSWORD_HASH: { path: 'dashboard.passwordHash', kind: 'text' },
};

export interface LoadConfigOptions {
  /** An operator's YAML file layered over config/default.yaml (`--config`). */
  file?: string | undefined;
  /** Defaults to process.env; only this function ever reads the environment. */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, keyed by dotted path; they win over everything. */
  overrides?: Readonly<Record<string, unknown>>;
}

type Tree = Record<string, unknown>;

/**
 * Loads config/default.yaml, then the optional file (`file` or FLEETSCAN_CONFIG), then the
 * environment, then flag overrides; validates all of it once and returns it deep-frozen.
 * Throws one ConfigError naming every bad key path, its source and why.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const merged: Tree = {};

  const layer = (tree: unknown, source: string) => {
    if (tree === null || tree === undefined) return;
    if (!isTree(tree)) {
      issues.push({ path: '(root)', source, message: 'Expected a mapping of keys' });
      return;
    }
    mergeInto(merged, tree, '', source, sources);
  };

  const defaultsFile = join(packageRoot(), 'config', 'default.yaml');
  layer(readYaml(defaultsFile, issues), defaultsFile);

  const file = options.file ?? env['FLEETSCAN_CONFIG'];
  if (file) layer(readYaml(file, issues), file);

  for (const [name, { path, kind }] of Object.entries(ENVIRONMENT)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = coerce(raw, kind);
    if (value === undefined) {
      issues.push({
        path,
        source: name,
        message:
          (kind === 'int' ? 'Expected a whole number' : 'Expected true or false') +
          (echoed(path) ? echo(raw) : ''),
      });
      continue;
    }
    setPath(merged, path, value);
    sources.set(path, name);
  }

  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(merged, path, value);
    sources.set(path, 'command line');
  }

  issues.push(...findInlineSecrets(merged['tenants']));
  const redisTree = merged['redis'];
  if (isTree(redisTree) && typeof redisTree['password'] === 'string') {
    const source = sources.get('redis.password') ?? '';
    if (!(source in ENVIRONMENT) && source !== 'command line') {
      issues.push({
        path: 'redis.password',
        source,
        message:
          'Secrets are accepted by reference only (value not shown): use REDIS_PASSWORD or redis.passwordFile',
      });
    }
  }
  // An unreadable file leaves nothing sensible to validate; a bad variable does not stop the
  // others from being checked: every bad key is reported at once.
  if (issues.some((i) => i.path === '(file)' || i.path === '(root)')) throw new ConfigError(issues);
  const result = configSchema.safeParse(merged);
  if (result.success && issues.length > 0) throw new ConfigError(issues);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String).join('.') || '(root)';
      const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys.map(String) : [];
      const named =
        keys.length > 0
          ? keys.map((key) => `${path === '(root)' ? '' : `${path}.`}${key}`)
          : [path];
      for (const name of named) {
        if (issues.some((i) => i.path === name)) continue;
        issues.push({
          path: name,
          source: sourceOf(name, sources),
          // A length rule's message names only the length (the value is never echoed).
          message: SECRET_KEYS.has(name)
            ? issue.code === 'too_small'
              ? `${issue.message} (value not shown: it is a secret)`
              : 'Invalid value (not shown: it is a secret)'
            : `${issue.message}${echoed(name) ? echo(valueAt(merged, name)) : ''}`,
        });
      }
    }
    throw new ConfigError(issues);
  }
  const tenants = resolveTenantSecrets(result.data.tenants, env);
  const redis = resolveRedisFiles(result.data.redis, sources);
  const signIn =
    result.data.dashboard.auth === 'entra'
      ? resolveSignInSecrets(result.data.dashboard.entra, env)
      : { entra: result.data.dashboard.entra, issues: [] };
  const lateIssues = [...redis.issues, ...tenants.issues, ...signIn.issues];
  if (lateIssues.length > 0) throw new ConfigError(lateIssues);
  return deepFreeze({
    ...result.data,
    redis: redis.redis,
    tenants: tenants.tenants,
    dashboard: { ...result.data.dashboard, entra: signIn.entra },
  });
}

function readYaml(file: string, issues: ConfigIssue[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({ path: '(file)', source: file, message: `Cannot read the file (${code})` });
    return undefined;
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    issues.push({
      path: '(file)',
      source: file,
      message: `Not valid YAML: ${(error as Error).message}`,
    });
    return undefined;
  }
}

/** Secrets and the Redis URL (it may hold a password) are never repeated in an error. */
function echoed(path: string): boolean {
  return !SECRET_KEYS.has(path) && path !== 'redis.url';
}

/** `, got "100/1x"`: the bad value itself, so the reader sees what to fix (never for secrets). */
function echo(value: unknown): string {
  if (typeof value === 'string') return `, got ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `, got ${String(value)}`;
  return '';
}

function valueAt(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split('.')) node = isTree(node) ? node[key] : undefined;
  return node;
}

function coerce(raw: string, kind: Kind): unknown {
  if (kind === 'text') return raw;
  if (kind === 'int') return /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : undefined;
  const lowered = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
  if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
  return undefined;
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeInto(
  target: Tree,
  source: Tree,
  prefix: string,
  origin: string,
  sources: Map<string, string>,
) {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const existing = target[key];
    if (isTree(value) && isTree(existing)) {
      mergeInto(existing, value, path, origin, sources);
    } else {
      target[key] = isTree(value) ? structuredClone(value) : value;
      sources.set(path, origin);
    }
  }
}

function setPath(tree: Tree, path: string, value: unknown) {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isTree(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] ?? path] = value;
}

function sourceOf(path: string, sources: Map<string, string>): string {
  for (
    let candidate = path;
    candidate;
    candidate = candidate.slice(0, Math.max(0, candidate.lastIndexOf('.')))
  ) {
    const source = sources.get(candidate);
    if (source) return source;
    if (!candidate.includes('.')) break;
  }
  return 'configuration';
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
