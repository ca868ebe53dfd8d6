/** How a failed hunting call may be retried (as the Defender client's `Retry`, minus `later`). */
export type HuntingRetry = 'never' | 'backoff' | 'throttled';

/** Every failure of a Graph hunting call. */
export class HuntingError extends Error {
  override name = 'HuntingError';
  readonly status: number;
  /** Graph's `error.code`. */
  readonly code: string;
  readonly retry: HuntingRetry;
  readonly retryAfterMs: number | undefined;
  /** Graph's `error.message` ('' when none came). */
  readonly apiMessage: string;

  constructor(
    details: {
      status: number;
      code: string;
      retry: HuntingRetry;
      message?: string;
      retryAfterMs?: number;
      /** What was asked (default `runHuntingQuery`), e.g. `GET /security/incidents/4711`. */
      operation?: string;
    },
    options?: ErrorOptions,
  ) {
    super(
      `Graph ${details.operation ?? 'runHuntingQuery'} answered ${details.status} ${details.code}${details.message ? `: ${details.message}` : ''}`,
      options,
    );
    this.status = details.status;
    this.code = details.code;
    this.retry = details.retry;
    this.retryAfterMs = details.retryAfterMs;
    this.apiMessage = details.message ?? '';
  }
}

/** 429 and quota answers pause; 5xx and timeouts are transient; anything else is final. */
export function classifyHunting(status: number): HuntingRetry {
  if (status === 429) return 'throttled';
  if (status === 408 || status >= 500 || status === 0) return 'backoff';
  return 'never';
}

const QUOTA_CYCLE_MS = 15 * 60_000;

/**
 * Whether a 429's message is the tenant's CPU quota ("You have exceeded processing resources
 * allocated to this tenant", Microsoft Learn "Handle advanced hunting errors") rather than the
 * call-count limit ("API calls quota exceeded! maximum allowed 45 per 00:01:00",
 * MicrosoftDocs/microsoft-365-docs issue 4616). The docs say to read the body for which limit was
 * reached; only the CPU quota blocks until the next 15-minute cycle.
 */
export function isCpuQuota(message: string): boolean {
  if (/calls? quota exceeded|maximum allowed \d+ per/i.test(message)) return false;
  return /\bcpu\b|processing resources|allocated resources/i.test(message);
}

/**
 * How long to pause after a 429: Retry-After when given; for the CPU quota (which blocks until
 * the next 15-minute cycle) the rest of the current cycle; a call-count 429 without Retry-After
 * waits the configured default.
 */
export function huntingPauseMs(
  retryAfter: string | undefined,
  message: string,
  nowMs: number,
  defaultMs: number,
): number {
  const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.max(1_000, seconds * 1_000);
  if (isCpuQuota(message)) return QUOTA_CYCLE_MS - (nowMs % QUOTA_CYCLE_MS);
  return defaultMs;
}
