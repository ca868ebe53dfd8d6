import { createHmac, timingSafeEqual } from 'node:crypto';

/** The three parts of a compact JWS, decoded (signature left as bytes). */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Splits and parses a compact JWT; `undefined` when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(h) || !/^[A-Za-z0-9_-]+$/.test(p) || !/^[A-Za-z0-9_-]*$/.test(s)) {
    return undefined;
  }
  const header = parseObject(Buffer.from(h, 'base64url').toString('utf8'));
  const payload = parseObject(Buffer.from(p, 'base64url').toString('utf8'));
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** HS256-signed JWT: the simulator's own access tokens. */
export function signHs256(payload: Record<string, unknown>, key: Buffer): string {
  const input = `${base64UrlJson({ typ: 'JWT', alg: 'HS256' })}.${base64UrlJson(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

export function verifyHs256(jwt: DecodedJwt, key: Buffer): boolean {
  if (jwt.header['alg'] !== 'HS256') return false;
  const expected = createHmac('sha256', key).update(jwt.signingInput).digest();
  return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature);
}
