import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClientCertificate, parseClientCertificate } from '../../../src/auth/certificate.js';
import { TokenError } from '../../../src/auth/token-error.js';
import { createAppCertificate, type AppCertificate } from './app-certificate.js';

let app: AppCertificate;
let other: AppCertificate;
beforeAll(async () => {
  [app, other] = await Promise.all([createAppCertificate(), createAppCertificate()]);
});

function tokenError(run: () => unknown): TokenError {
  try {
    run();
  } catch (error) {
    if (error instanceof TokenError) return error;
    throw error;
  }
  throw new Error('expected a TokenError');
}

describe('client certificates', () => {
  it('computes SHA-256 and SHA-1 thumbprints and keeps the chain for x5c', () => {
    const parsed = parseClientCertificate(`${app.cert}\n${app.key}`, undefined);
    expect(parsed.thumbprintSha256).toBe(app.sha256);
    expect(parsed.thumbprintSha1).toBe(app.sha1);
    expect(parsed.x5c).toBe(app.cert.trim());
    expect(parsed.privateKey).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('reads a key encrypted with the password, from a file, key first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetscan-cert-'));
    const file = join(dir, 'app.pem');
    await writeFile(file, `${app.encryptedKey}\n${app.cert}`);
    const parsed = loadClientCertificate(file, app.password);
    expect(parsed.thumbprintSha256).toBe(app.sha256);
    expect(parsed.privateKey).not.toContain('ENCRYPTED');
  });

  it('says the password is missing or wrong without echoing it', () => {
    const missing = tokenError(() =>
      parseClientCertificate(`${app.cert}\n${app.encryptedKey}`, undefined),
    );
    expect(missing.message).toContain('MDE_CERTIFICATE_PASSWORD');
    const wrong = tokenError(() =>
      parseClientCertificate(`${app.cert}\n${app.encryptedKey}`, 'wrong-canary-55'),
    );
    expect(wrong.code).toBe('certificate_key_invalid');
    expect(wrong.message).not.toContain('wrong-canary-55');
    expect(wrong.cause).toBeUndefined();
  });

  it('refuses a key that belongs to another certificate', () => {
    expect(
      tokenError(() => parseClientCertificate(`${app.cert}\n${other.key}`, undefined)).code,
    ).toBe('certificate_key_mismatch');
  });

  it('refuses a file without a certificate or a key, and names the setting for a missing file', () => {
    expect(tokenError(() => parseClientCertificate(app.key, undefined)).code).toBe(
      'certificate_invalid',
    );
    expect(tokenError(() => parseClientCertificate(app.cert, undefined)).code).toBe(
      'certificate_invalid',
    );
    const missing = tokenError(() => loadClientCertificate('/nonexistent/app.pem', undefined));
    expect(missing.message).toBe('Cannot read MDE_CERTIFICATE_PATH (ENOENT)');
  });
});
