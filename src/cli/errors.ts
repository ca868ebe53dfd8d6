/** Bad input from the person at the keyboard: printed as is, exit 1, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The JSON shape of every failure with `--json`: `{"error": {"kind", "message", ...}}`. */
export interface FailureJson {
  error: {
    kind: 'usage' | 'config' | 'device-file' | 'failure';
    message: string;
    code?: string;
    issues?: readonly { path: string; source: string; message: string }[];
  };
}

/**
 * A command-line mistake as commander words it (`error: unknown option '--x'`), made JSON. Here
 * rather than in report-failure.ts, which loads the config schema: the entry needs it at start.
 */
export function usageFailureJson(commanderMessage: string): FailureJson {
  return {
    error: { kind: 'usage', message: commanderMessage.replace(/^error: /, '').trim() },
  };
}
