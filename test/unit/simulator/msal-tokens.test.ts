import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../../src/simulator/tls.js';
import { withSimulator } from '../../helpers/with-simulator.js';

const run = promisify(execFile);
const SCOPE = 'https://api.securitycenter.microsoft.com/.default';

/**
 * Runs real @azure/msal-node in a child process that trusts the simulator's self-signed
 * certificate only through NODE_EXTRA_CA_CERTS (read at process start), so MSAL's own fetch
 * client, TLS verification and authority discovery are what is tested. Each case acquires a
 * token and then calls the API with it.
 */
const CHILD = `
import { ConfidentialClientApplication } from '@azure/msal-node';
const { url, tenantId, clientId, cases } = JSON.parse(process.env.CASES);
const host = new URL(url).host;
const out = {};
for (const c of cases) {
  try {
    const auth = { clientId, authority: url + '/' + tenantId };
    if (c.discovery) {
      const res = await fetch(url + '/common/discovery/instance?api-version=1.1&authorization_endpoint=' + encodeURIComponent(url + '/' + tenantId + '/oauth2/v2.0/authorize'));
      auth.cloudDiscoveryMetadata = await res.text();
    } else {
      auth.knownAuthorities = [host];
    }
    if (c.secret !== undefined) auth.clientSecret = c.secret;
    if (c.certificate) auth.clientCertificate = c.certificate;
    const app = new ConfidentialClientApplication({ auth });
    const result = await app.acquireTokenByClientCredential({ scopes: [${JSON.stringify(SCOPE)}] });
    const api = await fetch(url + '/api/machines?$top=1', { headers: { authorization: 'Bearer ' + result.accessToken } });
    out[c.name] = { ok: true, tokenType: result.tokenType, apiStatus: api.status };
  } catch (error) {
    out[c.name] = { ok: false, errorCode: error.errorCode, message: String(error.errorMessage ?? error.message).slice(0, 300) };
  }
}
process.stdout.write(JSON.stringify(out));
`;

interface CaseResult {
  ok: boolean;
  tokenType?: string;
  apiStatus?: number;
  errorCode?: string;
  message?: string;
}

describe('token acquisition with real msal-node over HTTPS', () => {
  let dir: string;
  let results: Record<string, CaseResult> = {};
  let entraPaths: string[] = [];
  let tenantId = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetscan-sim-tls-'));
    const server = await createSelfSignedCertificate();
    const client = await createSelfSignedCertificate();
    const stranger = await createSelfSignedCertificate();
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, server.cert);
    await withSimulator(
      { tls: server, certificatePem: client.cert, fleet: 5 },
      async ({ url, sim }) => {
        const { clientId, clientSecret, certificates } = sim.credentials;
        tenantId = sim.credentials.tenantId;
        const cert = certificates[0]!;
        const cases = [
          { name: 'secret', secret: clientSecret },
          { name: 'secret-discovery', secret: clientSecret, discovery: true },
          {
            name: 'cert-sha256',
            certificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: client.key },
          },
          {
            name: 'cert-sha1',
            certificate: { thumbprint: cert.thumbprint, privateKey: client.key },
          },
          {
            name: 'cert-x5c',
            certificate: {
              thumbprintSha256: cert.thumbprintSha256,
              privateKey: client.key,
              x5c: client.cert,
            },
          },
          { name: 'wrong-secret', secret: 'not-the-secret' },
          {
            name: 'wrong-key',
            certificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: stranger.key },
          },
        ];
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
          cwd: process.cwd(),
          env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: caFile,
            CASES: JSON.stringify({ url, tenantId, clientId, cases }),
          },
          timeout: 50_000,
        });
        results = JSON.parse(stdout) as Record<string, CaseResult>;
        entraPaths = sim
          .calls()
          .filter((c) => c.family === 'entra')
          .map((c) => c.path);
      },
    );
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a token for a client secret that the API then accepts', () => {
    expect(results['secret']).toEqual({ ok: true, tokenType: 'Bearer', apiStatus: 200 });
  });

  it('serves instance discovery metadata that msal accepts as cloudDiscoveryMetadata', () => {
    expect(results['secret-discovery']).toEqual({ ok: true, tokenType: 'Bearer', apiStatus: 200 });
  });

  it('accepts a PS256 client assertion with an x5t#S256 thumbprint', () => {
    expect(results['cert-sha256']).toEqual({ ok: true, tokenType: 'Bearer', apiStatus: 200 });
  });

  it('accepts an RS256 client assertion with an x5t (SHA-1) thumbprint', () => {
    expect(results['cert-sha1']).toEqual({ ok: true, tokenType: 'Bearer', apiStatus: 200 });
  });

  it('accepts a client assertion that carries its certificate chain in x5c', () => {
    expect(results['cert-x5c']).toEqual({ ok: true, tokenType: 'Bearer', apiStatus: 200 });
  });

  it('refuses a wrong client secret with invalid_client', () => {
    expect(results['wrong-secret']?.ok).toBe(false);
    expect(results['wrong-secret']?.message).toContain('AADSTS7000215');
  });

  it('refuses an assertion signed by a key that does not match the registered certificate', () => {
    expect(results['wrong-key']?.ok).toBe(false);
    expect(results['wrong-key']?.message).toContain('AADSTS7000274');
  });

  it('is asked by msal for the OpenID configuration and the token endpoint of the tenant', () => {
    expect(entraPaths).toContain(`/${tenantId}/v2.0/.well-known/openid-configuration`);
    expect(entraPaths).toContain(`/${tenantId}/oauth2/v2.0/token`);
  });
});
