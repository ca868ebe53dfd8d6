/**
 * What a Redis connection error means for a person, in one sentence with the fix. `lasting`
 * errors (refused credentials, an untrusted certificate) do not go away by waiting, so callers
 * stop retrying at once instead of riding them out like an outage.
 */
export interface RedisProblem {
  message: string;
  lasting: boolean;
}

const TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function explainRedisError(error: unknown, where: string): RedisProblem {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH failed|invalid password/i.test(message)) {
    return {
      lasting: true,
      message:
        `Redis at ${where} refused the credentials: check FLEETSCAN_REDIS_USERNAME and ` +
        'REDIS_PASSWORD (or FLEETSCAN_REDIS_PASSWORD_FILE).',
    };
  }
  if (/NOPERM/i.test(message)) {
    return {
      lasting: true,
      message:
        `Redis at ${where} denied a command or key to this ACL user (${firstLine(message)}): ` +
        'grant the rules in README "Secure Redis" for the key prefixes in use.',
    };
  }
  if (typeof code === 'string' && TRUST_CODES.has(code)) {
    return {
      lasting: true,
      message:
        `Redis at ${where} presented a TLS certificate this host does not trust (${code}): ` +
        'set FLEETSCAN_REDIS_CA_FILE to the PEM of the CA that signed it.',
    };
  }
  if (/wrong version number|packet length too long|ECONNRESET/i.test(message)) {
    return {
      lasting: false,
      message:
        `Redis at ${where} did not complete the connection (${firstLine(message)}): ` +
        'a rediss:// URL needs a TLS port, a redis:// URL a plain one.',
    };
  }
  return {
    lasting: false,
    message: `Redis is unreachable at ${where} (${connectionReason(error, message)}). Start Redis or set REDIS_URL.`,
  };
}

const CONNECTION_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name not resolved',
  EPIPE: 'connection broken',
};

/**
 * True for errors that say Redis is not there right now (refused, lost, timed out, still
 * loading its data), as opposed to a refusal or a bug: the ones a long-running command rides out.
 */
export function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code in CONNECTION_CODES) return true;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|^LOADING|connect ETIMEDOUT|no answer within/i.test(
      error.message,
    )
  );
}

/** The client's wording of a lost connection, as a few plain words. */
function connectionReason(error: unknown, message: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_CODES[code]) return CONNECTION_CODES[code];
  if (/max retries per request|Connection is closed|Stream isn't writeable/i.test(message))
    return 'connection lost';
  if (/^LOADING/.test(message)) return 'still loading its data';
  return firstLine(message);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
