import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TokenError } from './token-error.js';

/** What MSAL needs to sign a client assertion with a certificate. */
export interface ClientCertificate {
  /** Unencrypted PKCS#8 PEM: MSAL's signer takes no passphrase. */
  privateKey: string;
  /** Hex SHA-256 thumbprint (`x5t#S256`), what Entra expects today. */
  thumbprintSha256: string;
  /** Hex SHA-1 thumbprint, for logs and for comparing with the Entra portal's column. */
  thumbprintSha1: string;
  /** The certificate chain as PEM; MSAL sends it as `x5c` (needed for subject-name/issuer auth). */
  x5c: string;
  notAfter: string;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK =
  /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/;

/**
 * Reads a PEM file holding the certificate (first block = the app's own) and its private key,
 * possibly encrypted with `password`. Read synchronously, once, at start: a bad file fails early.
 * Errors name the setting, never the password or key.
 */
export function loadClientCertificate(
  path: string,
  password: string | undefined,
): ClientCertificate {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TokenError('certificate_unreadable', `Cannot read MDE_CERTIFICATE_PATH (${code})`, {
      cause: error,
    });
  }
  return parseClientCertificate(pem, password);
}

/** Parses PEM text as `loadClientCertificate` does (split out so tests need no files). */
export function parseClientCertificate(
  pem: string,
  password: string | undefined,
): ClientCertificate {
  const certificates = pem.match(CERTIFICATE_BLOCK) ?? [];
  const [first] = certificates;
  const keyBlock = KEY_BLOCK.exec(pem)?.[0];
  if (!first || !keyBlock) {
    throw new TokenError(
      'certificate_invalid',
      'MDE_CERTIFICATE_PATH must hold a PEM certificate and its private key',
    );
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(first);
  } catch (error) {
    throw new TokenError(
      'certificate_invalid',
      'The certificate in MDE_CERTIFICATE_PATH is not valid PEM',
      {
        cause: error,
      },
    );
  }
  let privateKey: string;
  try {
    const key = createPrivateKey({ key: keyBlock, format: 'pem', passphrase: password ?? '' });
    privateKey = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    // The cause is dropped on purpose: OpenSSL's text may quote parts of the key material.
    throw new TokenError(
      'certificate_key_invalid',
      password === undefined
        ? 'The private key in MDE_CERTIFICATE_PATH cannot be read (encrypted? set MDE_CERTIFICATE_PASSWORD)'
        : 'The private key in MDE_CERTIFICATE_PATH cannot be read with MDE_CERTIFICATE_PASSWORD',
    );
  }
  if (!certificate.checkPrivateKey(createPrivateKey(privateKey))) {
    throw new TokenError(
      'certificate_key_mismatch',
      'The private key in MDE_CERTIFICATE_PATH does not belong to its certificate',
    );
  }
  return {
    privateKey,
    thumbprintSha256: hex(certificate.fingerprint256),
    thumbprintSha1: hex(certificate.fingerprint),
    x5c: certificates.join('\n'),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}

function hex(fingerprint: string): string {
  return fingerprint.replaceAll(':', '').toLowerCase();
}
