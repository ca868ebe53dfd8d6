import type { TokenProvider } from '../auth/token-provider.js';
import { withTokenTimeout } from '../auth/token-timeout.js';
import type { Logger } from '../shared/logger.js';
import type { CallGate, CallPermit } from './call-gate.js';
import { DefenderError } from './errors.js';
import type { Attempt, Http, Reply } from './http.js';
import { errorFromNetwork, errorFromReply, parseErrorBody } from './response-error.js';

/** One finished API call, as the Defender client reports it through `onCall`. */
export interface ApiCallEvent {
  family: string;
  method: string;
  /** HTTP status, or 0 when no reply came (network error, timeout). */
  status: number;
  code?: string | undefined;
  durationMs: number;
  /** The request certainly never left (a refused connection): its budget slot was given back. */
  notSent?: boolean;
}

export interface CallerDeps {
  http: Http;
  tokens: TokenProvider;
  gate: CallGate;
  /**
   * The request timeout, and the longest a call waits for its token while it holds a slot: a
   * slot must end within its lease (config `limits.lease` ≥ token wait + request timeout), or
   * the limiter counts it as replied while it has not even been sent.
   */
  timeoutMs: number;
  throttleDefaultMs: number;
  log: Logger;
  onCall?: ((event: ApiCallEvent) => void) | undefined;
}

export interface CallOptions {
  /** A slot the caller already holds (limiter.tryAcquire); otherwise one is taken from the gate. */
  permit?: CallPermit | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Takes over the wait for the reply's bookkeeping (the slot's settle, the adaptive budget's
   * look at the status): the call resolves as soon as its reply is read, and the caller awaits
   * this promise (which never rejects) beside its own Redis writes, so both go in one round
   * trip instead of one after the other. Absent: the call waits for it itself.
   */
  onSettling?: ((settling: Promise<void>) => void) | undefined;
}

/**
 * The path every request takes: a budget slot, a token, one HTTP exchange, the slot settled (or
 * released when the request certainly never left), 429 → gate.throttle, 401 → one token refresh
 * and one more try on a new slot. Resolves with the parsed JSON of a 2xx reply.
 */
export function createCaller(deps: CallerDeps) {
  const { gate, tokens, log } = deps;

  const finish = async (
    permit: CallPermit,
    sent: boolean,
    attempt: Attempt,
    receivedAt?: number,
  ) => {
    try {
      // Stamped with the reply's arrival, not with this moment: what came between (reading the
      // body, a 429's pause) would otherwise delay the slot's next use by as much.
      const ago = receivedAt === undefined ? 0 : performance.now() - receivedAt;
      await (sent ? permit.settle(ago) : permit.release());
    } catch (error) {
      // The reply matters more than the bookkeeping: a lost re-stamp only makes the window stricter.
      log.warn({ err: error, family: attempt.family, sent }, 'could not return the budget slot');
    }
  };

  /** Pauses the family's budget for the reply's Retry-After (or the default). */
  const pauseAfter429 = async (attempt: Attempt, reply: Reply) => {
    const error = errorFromReply(reply, deps.throttleDefaultMs);
    if (error.retry !== 'throttled') return;
    const ms = error.retryAfterMs ?? deps.throttleDefaultMs;
    log.warn({ family: attempt.family, retryAfterMs: ms, target: error.target }, 'throttled (429)');
    try {
      await gate.throttle(attempt.family, ms);
    } catch (throttleError) {
      log.warn({ err: throttleError, family: attempt.family }, 'could not pause the budget');
    }
  };

  const once = async (attempt: Attempt, options: CallOptions): Promise<Reply> => {
    const permit = options.permit ?? (await gate.acquire(attempt.family, options.signal));
    let token: string;
    try {
      // Bounded, so that the slot held meanwhile ends within its lease.
      const message = `No access token within ${String(deps.timeoutMs)} ms`;
      token = await withTokenTimeout(tokens.getToken(), deps.timeoutMs, message);
    } catch (error) {
      await finish(permit, false, attempt);
      throw tokenFailure(error, 0);
    }
    const started = performance.now();
    const report = (status: number, code: string | undefined, notSent = false) => {
      const event = {
        family: attempt.family,
        method: attempt.method,
        status,
        code,
        durationMs: Math.round(performance.now() - started),
        ...(notSent ? { notSent } : {}),
      };
      log.debug(event, 'api call');
      try {
        deps.onCall?.(event);
      } catch (error) {
        // Statistics must not turn a call that happened into one that seems to have failed.
        log.warn({ err: error, family: attempt.family }, 'onCall failed');
      }
    };
    let reply: Reply;
    try {
      reply = await deps.http.send(attempt, token, options.signal);
    } catch (error) {
      const failure = errorFromNetwork(error);
      await finish(permit, !failure.notSent, attempt);
      report(0, failure.code, failure.notSent);
      throw failure;
    }
    // A 429 pauses the budget before its slot leaves the in-flight count: settling first let
    // another slot be granted in between (above the accepted level, the probe limit counts
    // calls in flight), which met the same full window.
    if (reply.status === 429) await pauseAfter429(attempt, reply);
    // Settle and observe leave in the same tick, so one write carries both and Redis runs them
    // in that order (the adaptive read sees the slot settled).
    const settling = Promise.all([
      finish(permit, true, attempt, reply.receivedAt),
      observe(attempt, permit, reply.status),
    ]).then(() => undefined);
    report(reply.status, isSuccess(reply.status) ? undefined : errorCodeOf(reply));
    if (options.onSettling) options.onSettling(settling);
    else await settling;
    return reply;
  };

  const observe = async (attempt: Attempt, permit: CallPermit, status: number) => {
    try {
      await gate.observe?.(attempt.family, permit, status);
    } catch (error) {
      // Learning the cap is a bonus: the reply counts more than what the budget makes of it.
      log.warn({ err: error, family: attempt.family }, 'could not update the adaptive budget');
    }
  };

  return async function call(attempt: Attempt, options: CallOptions = {}): Promise<unknown> {
    let reply = await once(attempt, options);
    if (reply.status === 401) {
      log.info({ family: attempt.family }, 'API answered 401: refreshing the token once');
      try {
        await tokens.getToken({ forceRefresh: true });
      } catch (error) {
        throw tokenFailure(error, 401);
      }
      reply = await once(attempt, { signal: options.signal });
      if (reply.status === 401)
        throw withRetry(errorFromReply(reply, deps.throttleDefaultMs), 'never');
    }
    if (isSuccess(reply.status)) return parseSuccess(reply);
    throw errorFromReply(reply, deps.throttleDefaultMs);
  };
}

export type Caller = ReturnType<typeof createCaller>;

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function errorCodeOf(reply: Reply): string | undefined {
  return parseErrorBody(reply.body).code;
}

function parseSuccess(reply: Reply): unknown {
  try {
    return JSON.parse(reply.body) as unknown;
  } catch (error) {
    // A success we cannot read may still have done its work (a scan was created): retry by
    // looking it up, which is what `backoff` leads the pipeline to do.
    throw new DefenderError(
      {
        status: reply.status,
        code: 'InvalidResponse',
        retry: 'backoff',
        message: 'Reply is not JSON',
      },
      { cause: error },
    );
  }
}

/** No usable token: the request was not sent (status 0) or a refresh after a 401 failed. */
function tokenFailure(error: unknown, status: number): DefenderError {
  const transient = (error as { transient?: unknown } | null)?.transient === true;
  const code = (error as { code?: unknown } | null)?.code;
  return new DefenderError(
    {
      status,
      code: status === 401 ? 'Unauthorized' : typeof code === 'string' ? code : 'TokenUnavailable',
      retry: status === 401 || !transient ? 'never' : 'backoff',
      message: error instanceof Error ? error.message : 'No access token',
      notSent: status === 0,
    },
    { cause: error },
  );
}

function withRetry(error: DefenderError, retry: DefenderError['retry']): DefenderError {
  return new DefenderError(
    {
      status: error.status,
      code: error.code,
      retry,
      message: error.apiMessage,
      target: error.target,
      retryAfterMs: error.retryAfterMs,
      notSent: error.notSent,
    },
    { cause: error.cause },
  );
}
