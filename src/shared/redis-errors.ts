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
    message: `Redis is unreachable at ${where} (${firstLine(message)}). Start Redis or set REDIS_URL.`,
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
