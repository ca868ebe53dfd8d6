import { connect } from 'node:tls';

/**
 * Opens a TLS connection to `url`'s host the way Node's HTTPS client would (system CAs plus
 * NODE_EXTRA_CA_CERTS) and returns Node's verdict on the certificate (`SELF_SIGNED_CERT_IN_CHAIN`,
 * `DEPTH_ZERO_SELF_SIGNED_CERT`, …), or undefined when it is trusted, not https, or unreachable.
 * MSAL reports an untrusted login host only as `endpoints_resolution_error`; this says why.
 */
export async function probeTls(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:') return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(parsed.port || 443),
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      rejectUnauthorized: false,
    });
    const done = (verdict: string | undefined) => {
      socket.destroy();
      resolve(verdict);
    };
    socket.setTimeout(timeoutMs, () => {
      done(undefined);
    });
    socket.once('secureConnect', () => {
      const error = socket.authorizationError as Error | string | null;
      done(
        error === null
          ? undefined
          : typeof error === 'string'
            ? error
            : ((error as { code?: string }).code ?? error.message),
      );
    });
    socket.once('error', () => {
      done(undefined);
    });
  });
}
