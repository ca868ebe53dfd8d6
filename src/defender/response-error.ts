import { RequestError } from 'got';
import { classify } from './classify.js';
import { DefenderError, type Retry } from './errors.js';

/** Codes used when the body names none (the API documents these spellings). */
const DEFAULT_CODES: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

interface ApiErrorBody {
  code?: string;
  message?: string;
  target?: string;
}

/** Reads `{"error": {code, message, target}}`; anything else yields nothing. */
export function parseErrorBody(text: string): ApiErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return {};
  const error: unknown = parsed.error;
  if (typeof error !== 'object' || error === null) return {};
  const field = (name: string): string | undefined => {
    const value: unknown = (error as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { code: field('code'), message: field('message'), target: field('target') };
}

/**
 * Retry-After in ms: delta-seconds or an HTTP date, else `fallbackMs` (mde-api.md: assume 60 s
 * when absent; the fallback comes from config so compressed test windows stay fast).
 */
export function retryAfterMs(
  header: string | undefined,
  fallbackMs: number,
  now = Date.now(),
): number {
  if (header === undefined || header.trim() === '') return fallbackMs;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now);
}

export interface ReplyFacts {
  status: number;
  body: string;
  retryAfter?: string | undefined;
}

/** One DefenderError for a reply that was not a success. */
export function errorFromReply(reply: ReplyFacts, throttleDefaultMs: number): DefenderError {
  const { code: bodyCode, message, target } = parseErrorBody(reply.body);
  const code = bodyCode ?? DEFAULT_CODES[reply.status] ?? `Http${reply.status}`;
  const retry = classify(reply.status, code);
  return new DefenderError({
    status: reply.status,
    code,
    retry,
    message,
    target,
    retryAfterMs:
      retry === 'throttled' ? retryAfterMs(reply.retryAfter, throttleDefaultMs) : undefined,
  });
}

/** Errors raised before any connection was made: the request certainly never left. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
/** got timeout phases that end before the request could be written. */
const NOT_SENT_TIMEOUTS = new Set(['lookup', 'connect', 'secureConnect']);

/**
 * One DefenderError for a call that got no reply: status 0, the system code (`ETIMEDOUT`,
 * `ECONNRESET`…) and `backoff`. `notSent` only when the request provably never left.
 */
export function errorFromNetwork(error: unknown): DefenderError {
  const code = errorCode(error);
  const event = (error as { event?: unknown } | null)?.event;
  const notSent =
    NOT_SENT_CODES.has(code) || (typeof event === 'string' && NOT_SENT_TIMEOUTS.has(event));
  return new DefenderError(
    {
      status: 0,
      code,
      retry: classify(0, code),
      message: (error as Error | null)?.message,
      notSent,
    },
    { cause: withoutRequestOptions(error) },
  );
}

/**
 * got's RequestError keeps the request options, bearer token included, in an enumerable
 * `options` property, and `util.inspect` / `console.error` print an error's cause with its
 * properties. So the cause kept is the error got wrapped (the socket's or the timer's), or a
 * bare copy of got's name, code and message.
 */
function withoutRequestOptions(error: unknown): unknown {
  if (!(error instanceof RequestError)) return error;
  const inner: unknown = error.cause;
  if (inner instanceof Error && !(inner instanceof RequestError)) return inner;
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('E') && code !== 'ERR_GOT_REQUEST_ERROR') {
    return code === 'ERR_TIMEOUT' ? 'ETIMEDOUT' : code;
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause && cause !== error) return errorCode(cause);
  return typeof code === 'string' ? code : 'ENETWORK';
}

/** A failure of ours, before any request: never sent, never worth retrying. */
export function invalidInput(code: string, message: string, retry: Retry = 'never'): DefenderError {
  return new DefenderError({ status: 0, code, retry, message, notSent: true });
}
