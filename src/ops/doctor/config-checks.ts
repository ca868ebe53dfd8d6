import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, ENVIRONMENT, loadConfig } from '../../config/load.js';
import { SECRET_KEYS, type Config } from '../../config/schema.js';
import { redactUrlsIn } from '../../shared/redact-url.js';
import { fail, ok, type CheckResult } from './check-result.js';

export interface ConfigCheckInput {
  /** `--config` (or FLEETSCAN_CONFIG): the file layered over config/default.yaml. */
  file: string | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * Shows a value without giving a secret away: secrets become `set (hidden)`, and a password
 * inside a URL (`redis://default:…@host`) is masked before the value is shortened.
 */
export function maskValue(path: string, value: string): string {
  if (SECRET_KEYS.has(path)) return 'set (hidden)';
  const shown = redactUrlsIn(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}…` : shown;
}

/** `MDE_TENANT_ID → defender.tenantId = 7a1b…`, one per variable that is set, in table order. */
export function describeEnvironment(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(ENVIRONMENT)
    .filter(([name]) => env[name] !== undefined && env[name] !== '')
    .map(([name, { path }]) => `${name} → ${path} = ${maskValue(path, env[name] ?? '')}`);
}

/** `file → limits.guard = 5ms`, one per leaf key the operator's YAML file sets (secrets hidden). */
export function describeFile(file: string, text: string): string[] {
  const lines: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [key, value] of Object.entries(node)) walk(value, path ? `${path}.${key}` : key);
      return;
    }
    if (path) lines.push(`${file} → ${path} = ${maskValue(path, JSON.stringify(node))}`);
  };
  walk(parseYaml(text) as unknown, '');
  return lines;
}

/**
 * Loads the configuration as every command does and reports where it came from. Returns the
 * config for the other checks, or undefined (with the ✖ naming every bad key) when it is invalid.
 */
export function checkConfig(input: ConfigCheckInput): {
  config: Config | undefined;
  results: CheckResult[];
} {
  const file = input.file ?? input.env['FLEETSCAN_CONFIG'];
  const variables = describeEnvironment(input.env);
  const sources = `config/default.yaml${file ? ` + ${file}` : ''}${
    variables.length > 0
      ? ` + ${String(variables.length)} environment variable${variables.length === 1 ? '' : 's'}`
      : ''
  }`;
  try {
    const config = loadConfig({ file: input.file, env: input.env });
    // The file parsed a moment ago in loadConfig: reading it again cannot fail differently.
    const fileLines = file ? describeFile(file, readFileSync(file, 'utf8')) : [];
    return {
      config,
      results: [
        ok('config', 'config.valid', `configuration valid (${sources})`),
        ...fileLines.map((line) => ok('config', 'config.file', line)),
        ...variables.map((line) => ok('config', 'config.env', line)),
      ],
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      config: undefined,
      results: error.issues.map((issue) =>
        fail(
          'config',
          'config.valid',
          `${issue.path} (${issue.source}): ${issue.message}`,
          `Correct ${issue.path} in ${issue.source}.`,
        ),
      ),
    };
  }
}
