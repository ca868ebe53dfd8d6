import { constants, verify, X509Certificate } from 'node:crypto';
import { decodeJwt } from './jwt.js';

/** A certificate whose private key may sign client assertions, with both thumbprints. */
export interface TrustedCertificate {
  certificate: X509Certificate;
  /** SHA-1 thumbprint, lowercase hex (what the Entra portal shows). */
  thumbprint: string;
  /** SHA-256 thumbprint, lowercase hex. */
  thumbprintSha256: string;
}

/** Parses every `CERTIFICATE` block of one or more PEM texts. */
export function trustCertificates(pems: readonly string[]): TrustedCertificate[] {
  const blocks = pems.flatMap(
    (pem) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [],
  );
  return blocks.map((block) => {
    const certificate = new X509Certificate(block);
    return {
      certificate,
      thumbprint: certificate.fingerprint.replaceAll(':', '').toLowerCase(),
      thumbprintSha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
    };
  });
}

export interface AssertionContext {
  clientId: string;
  /** Accepted `aud` values: the token endpoint URL (what MSAL sends) and the issuer. */
  audiences: readonly string[];
  nowMs: number;
  certificates: readonly TrustedCertificate[];
}

/** `undefined` when the assertion is good; otherwise Entra's AADSTS description of why not. */
export function checkClientAssertion(assertion: string, ctx: AssertionContext): string | undefined {
  const jwt = decodeJwt(assertion);
  if (!jwt) return 'AADSTS50027: JWT token is invalid or malformed.';
  const { header, payload } = jwt;
  const alg = header['alg'];
  if (alg !== 'RS256' && alg !== 'PS256') {
    return `AADSTS5002730: Invalid JWT token. Unsupported key for the signing algorithm ${String(alg)}.`;
  }
  const x5t = header['x5t'];
  const x5tS256 = header['x5t#S256'];
  if (typeof x5t !== 'string' && typeof x5tS256 !== 'string') {
    return 'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. (no x5t header)';
  }
  const trusted = ctx.certificates.find(
    (c) =>
      (typeof x5t !== 'string' || hexToBase64Url(c.thumbprint) === x5t) &&
      (typeof x5tS256 !== 'string' || hexToBase64Url(c.thumbprintSha256) === x5tS256),
  );
  if (!trusted) {
    return 'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.';
  }
  const signatureOk = verify(
    'sha256',
    Buffer.from(jwt.signingInput),
    alg === 'RS256'
      ? { key: trusted.certificate.publicKey, padding: constants.RSA_PKCS1_PADDING }
      : {
          key: trusted.certificate.publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        },
    jwt.signature,
  );
  if (!signatureOk) return 'AADSTS7000274: Client assertion failed signature validation.';
  const nowSec = ctx.nowMs / 1000;
  if (payload['iss'] !== ctx.clientId || payload['sub'] !== ctx.clientId) {
    return 'AADSTS700021: Client assertion application identifier does not match client_id (iss and sub must both be the client id).';
  }
  const aud = payload['aud'];
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((a) => typeof a === 'string' && ctx.audiences.includes(a))) {
    return `AADSTS700212: Client assertion audience claim does not match Realm issuer. Expected one of ${ctx.audiences.join(', ')}.`;
  }
  const exp = payload['exp'];
  const nbf = payload['nbf'];
  if (typeof exp !== 'number' || exp <= nowSec) {
    return 'AADSTS700024: Client assertion is not within its valid time range (expired).';
  }
  if (typeof nbf === 'number' && nbf > nowSec + 300) {
    return 'AADSTS700024: Client assertion is not within its valid time range (not yet valid).';
  }
  if (typeof payload['jti'] !== 'string' || payload['jti'] === '') {
    return 'AADSTS50027: JWT token is invalid or malformed (jti missing).';
  }
  const validTo = Date.parse(trusted.certificate.validTo);
  if (Number.isFinite(validTo) && validTo <= ctx.nowMs) {
    return 'AADSTS700027: The certificate used to sign the client assertion has expired.';
  }
  return undefined;
}

function hexToBase64Url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}
