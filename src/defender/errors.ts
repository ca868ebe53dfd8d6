/**
 * How a failed call may be retried:
 * - `never`: our bug, bad input, or the device cannot do it; fail.
 * - `later`: the device is busy with an unfinished action; try again later without spending an attempt.
 * - `backoff`: transient (5xx, network); retry with exponential backoff and jitter.
 * - `throttled`: 429; every caller sharing the budget waits `retryAfterMs`.
 * - `reauth`: 401; get a fresh token once, then fail.
 */
export type Retry = 'never' | 'later' | 'backoff' | 'throttled' | 'reauth';

export interface DefenderErrorDetails {
  status: number;
  /** Microsoft's `error.code` (branch on this, never on message). Synthetic for network errors. */
  code: string;
  retry: Retry;
  message?: string | undefined;
  /** Microsoft's correlation id (`error.target`): log it. */
  target?: string | undefined;
  retryAfterMs?: number | undefined;
  /** True when the request certainly never left this process (its budget slot can be given back). */
  notSent?: boolean | undefined;
}

/** Every failure of a Defender API call, typed so the caller can decide without parsing text. */
export class DefenderError extends Error {
  override name = 'DefenderError';
  readonly status: number;
  readonly code: string;
  readonly retry: Retry;
  readonly target: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly notSent: boolean;
  /** Microsoft's own message, kept apart from ours so it can be shown as a failure reason. */
  readonly apiMessage: string | undefined;

  constructor(details: DefenderErrorDetails, options?: ErrorOptions) {
    super(
      `Defender API answered ${details.status} ${details.code}${details.message ? `: ${details.message}` : ''}`,
      options,
    );
    this.status = details.status;
    this.code = details.code;
    this.retry = details.retry;
    this.target = details.target;
    this.retryAfterMs = details.retryAfterMs;
    this.notSent = details.notSent ?? false;
    this.apiMessage = details.message;
  }
}

/** A machine id that is not 40 hex characters: never reaches a URL. */
export class InvalidMachineIdError extends Error {
  override name = 'InvalidMachineIdError';
  readonly value: string;
  constructor(value: string) {
    super(`Not a Defender machine id (40 hex characters): ${JSON.stringify(value.slice(0, 80))}`);
    this.value = value;
  }
}
