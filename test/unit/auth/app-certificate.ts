import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface AppCertificate {
  cert: string;
  key: string;
  /** The same key, encrypted with `password` (PKCS#8, AES-256-CBC). */
  encryptedKey: string;
  password: string;
  sha1: string;
  sha256: string;
}

/** A self-signed app credential like the one an operator uploads to the Entra app registration. */
export async function createAppCertificate(
  password = 'pem-pass-canary-31',
): Promise<AppCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'fleetscan-test-app' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  const encryptedKey = createPrivateKey(pems.private)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password })
    .toString();
  const der = new X509Certificate(pems.cert).raw;
  return {
    cert: pems.cert,
    key: pems.private,
    encryptedKey,
    password,
    sha1: createHash('sha1').update(der).digest('hex'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}
