import { ConfigError, ENVIRONMENT, loadConfig } from '../../config/load.js';
import { SECRET_KEYS, type Config } from '../../config/schema.js';
import { fail, ok, type CheckResult } from './check-result.js';

export interface ConfigCheckInput {
  /** `--config` (or FLEETSCAN_CONFIG): the file layered over config/default.yaml. */
  file: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** Shows a value without giving a secret away: secrets become `set (hidden)`. */
export function maskValue(path: string, value: string): string {
  if (SECRET_KEYS.has(path)) return 'set (hidden)';
  return value.length > 60 ? `${value.slice(0, 57)}…` : value;
}

/** `MDE_TENANT_ID → defender.tenantId = 7a1b…`, one per variable that is set, in table order. */
export function describeEnvironment(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(ENVIRONMENT)
    .filter(([name]) => env[name] !== undefined && env[name] !== '')
    .map(([name, { path }]) => `${name} → ${path} = ${maskValue(path, env[name] ?? '')}`);
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
    return {
      config,
      results: [
        ok('config', 'config.valid', `configuration valid (${sources})`),
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
