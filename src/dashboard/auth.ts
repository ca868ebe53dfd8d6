import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Dashboard credentials as they come from config (`dashboard.*`); all optional. */
export interface DashboardCredentials {
  /** `entra`: people sign in with Entra ID (sessions); the token and Basic user are not used. */
  auth?: 'shared' | 'entra' | undefined;
  token?: string | undefined;
  user?: string | undefined;
  passwordHash?: string | undefined;
}

const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 32 } as const;

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), the format `fleetscan dashboard --hash-password` prints. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = SCRYPT;
  const key = await scryptAsync(password, salt, keyLength, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches a hash made by `hashPassword`; false for any malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = hash.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const options = { N: Number(n), r: Number(r), p: Number(p) };
  if (expected.length === 0 || !Object.values(options).every((v) => Number.isInteger(v) && v > 0)) {
    return false;
  }
  try {
    const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
      ...options,
      maxmem: 256 * options.N * options.r,
    });
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/** Compares two secrets in constant time whatever their lengths (digests have one length). */
function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function hasCredentials(credentials: DashboardCredentials): boolean {
  if (credentials.auth === 'entra') return true;
  return Boolean(credentials.token) || Boolean(credentials.user && credentials.passwordHash);
}

export type AuthCheck = (authorization: string | undefined) => Promise<boolean>;

/**
 * Checks an Authorization header: `Bearer <token>`, or Basic with the configured user and a
 * password matching the scrypt hash. Basic with the token as password (any user) is accepted
 * too, so a browser on a wall screen can log in with only a token configured.
 * scrypt costs tens of milliseconds, and a page polls every few seconds, so credentials that
 * passed once are remembered by their SHA-256 (never in clear) for the life of the process.
 */
export function createAuthCheck(credentials: DashboardCredentials): AuthCheck {
  const verified = new Set<string>();
  return async (authorization) => {
    if (!authorization) return false;
    const space = authorization.indexOf(' ');
    const scheme = authorization.slice(0, space).toLowerCase();
    const value = authorization.slice(space + 1).trim();
    if (space < 0 || !value) return false;
    if (scheme === 'bearer')
      return credentials.token ? sameSecret(value, credentials.token) : false;
    if (scheme !== 'basic') return false;

    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (credentials.token && sameSecret(password, credentials.token)) return true;
    if (!credentials.user || !credentials.passwordHash) return false;
    const fingerprint = createHash('sha256').update(decoded).digest('base64');
    if (verified.has(fingerprint)) return true;
    // scrypt runs whether or not the user name is right: the answer's timing must not tell a
    // guesser which user names exist.
    const userOk = sameSecret(user, credentials.user);
    const ok = (await verifyPassword(password, credentials.passwordHash)) && userOk;
    if (ok && verified.size < 100) verified.add(fingerprint);
    return ok;
  };
}

/** The user name of a Basic Authorization header (for throttling guesses per name), or null. */
export function basicUserOf(authorization: string | undefined): string | null {
  const match = /^basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(0, colon);
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Loopback addresses and names: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase();
  return (
    LOOPBACK_NAMES.has(bare) || /^127(\.\d{1,3}){3}$/.test(bare) || bare === '::ffff:127.0.0.1'
  );
}

/** The `Host` header without its port, for `[::1]:3000`, `localhost:3000` and `example.org`. */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

/** How a server listens: with TLS or not, and whether plain HTTP off loopback was asked for. */
export interface BindSecurity {
  tls: boolean;
  insecureBind: boolean;
}

/**
 * The bind rule for the dashboard and the API: a non-loopback address needs TLS (or an explicit
 * `--insecure-bind`, for a TLS-terminating proxy in front), because tokens and passwords would
 * otherwise cross the network in clear. Returns the refusal, or null when the bind is allowed.
 */
export function refuseInsecureBind(
  host: string,
  security: BindSecurity,
  flags: { cert: string; key: string; config: string },
): string | null {
  if (isLoopbackHost(host) || security.tls || security.insecureBind) return null;
  return (
    `refusing to listen on ${host} without TLS: pass ${flags.cert} and ${flags.key} ` +
    `(${flags.config}.tlsCert, ${flags.config}.tlsKey), or --insecure-bind ` +
    `(${flags.config}.insecureBind) when a TLS-terminating proxy is in front`
  );
}

/**
 * The dashboard's bind rule: without credentials only a loopback address, so nobody else on the
 * network can reach an open dashboard; off loopback also TLS (`refuseInsecureBind`). Returns the
 * refusal message, or null when the bind is allowed.
 */
export function refuseBind(
  host: string,
  credentials: DashboardCredentials,
  security: BindSecurity = { tls: false, insecureBind: false },
): string | null {
  if (isLoopbackHost(host)) return null;
  if (!hasCredentials(credentials)) {
    return (
      `refusing to listen on ${host} without credentials: set FLEETSCAN_DASHBOARD_TOKEN, or ` +
      'FLEETSCAN_DASHBOARD_USER and FLEETSCAN_DASHBOARD_PASSWORD_HASH (fleetscan dashboard ' +
      '--hash-password), or bind to 127.0.0.1'
    );
  }
  return refuseInsecureBind(host, security, {
    cert: '--tls-cert',
    key: '--tls-key',
    config: 'dashboard',
  });
}
