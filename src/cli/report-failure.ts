import { ConfigError } from '../config/load.js';
import { DeviceFileError } from '../producer/sources/errors.js';
import { UsageError, type FailureJson } from './errors.js';
import { redactUrlsIn } from '../shared/redact-url.js';
import { explainRedisError, isRedisConnectionError } from '../shared/redis-errors.js';

/** Where a failure report goes: stderr for people, one JSON object on stdout with `--json`. */
export interface FailureOutput {
  json: boolean;
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  /** Prints the stack of unexpected errors (LOG_LEVEL=debug). */
  debug?: boolean;
}

export function failureJson(error: unknown): FailureJson {
  const message = messageOf(error);
  if (error instanceof ConfigError)
    return { error: { kind: 'config', message, issues: error.issues } };
  if (error instanceof DeviceFileError)
    return { error: { kind: 'device-file', message, code: error.code } };
  if (error instanceof UsageError) return { error: { kind: 'usage', message } };
  return { error: { kind: 'failure', message } };
}

/**
 * Turns a command's failure into one clear report and the exit code: never a stack trace by
 * default. (commander's own errors, help and version are not failures: see main.ts.)
 */
export function reportFailure(error: unknown, out: FailureOutput): number {
  if (out.json) {
    out.writeOut(`${JSON.stringify(failureJson(error), null, 2)}\n`);
    return 1;
  }
  out.writeErr(`fleetscan: ${messageOf(error)}\n`);
  const expected =
    error instanceof UsageError || error instanceof ConfigError || error instanceof DeviceFileError;
  if (!expected && out.debug === true && error instanceof Error && error.stack) {
    out.writeErr(`${error.stack}\n`);
  }
  return 1;
}

/**
 * A person's sentence for the error: Redis refusals get their fix, never the client's wording,
 * and a password inside a quoted URL is masked.
 */
function messageOf(error: unknown): string {
  if (
    error instanceof Error &&
    (/^(NOPERM|WRONGPASS|NOAUTH)/.test(error.message) || isRedisConnectionError(error))
  )
    return redactUrlsIn(explainRedisError(error, 'the configured Redis').message);
  return redactUrlsIn(error instanceof Error ? error.message : String(error));
}
