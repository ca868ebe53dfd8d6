import { generate } from 'selfsigned';

/** A PEM key pair: `cert` is what clients trust (`NODE_EXTRA_CA_CERTS`), `key` stays here. */
export interface SelfSignedCertificate {
  key: string;
  cert: string;
}

/**
 * A self-signed certificate for `--tls`, valid for `localhost`, 127.0.0.1 and ::1 (plus any
 * extra DNS names), usable both as the server certificate and as the CA a client trusts.
 * Its private key can also sign client assertions (pass `cert` as `certificatePem`).
 */
export async function createSelfSignedCertificate(
  extraDnsNames: readonly string[] = [],
): Promise<SelfSignedCertificate> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'fleetscan-simulator' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 30 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          ...extraDnsNames.map((value) => ({ type: 2 as const, value })),
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
