import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../../src/simulator/tls.js';
import type { run } from './fixtures/delegated-flow.js';

type Report = Awaited<ReturnType<typeof run>>;
const ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURE = resolve(import.meta.dirname, 'fixtures/delegated-flow.ts');

async function runInChild(input: unknown, caFile: string): Promise<Report> {
  const script = `
    import { runnerImport } from 'vite';
    const { module } = await runnerImport(${JSON.stringify(FIXTURE)}, { root: ${JSON.stringify(ROOT)}, configFile: false, logLevel: 'silent' });
    const report = await module.run(JSON.parse(process.env.FLEETSCAN_DELEGATED_TEST));
    process.stdout.write('\\nREPORT ' + JSON.stringify(report) + '\\n');
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caFile,
      FLEETSCAN_DELEGATED_TEST: JSON.stringify(input),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const line = out.split('\n').find((l) => l.startsWith('REPORT '));
  if (code !== 0 || !line)
    throw new Error(`child exited ${String(code)}:\n${err.slice(-4000)}${out.slice(-2000)}`);
  return JSON.parse(line.slice('REPORT '.length)) as Report;
}

let report: Report;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetscan-delegated-'));
  const server = await createSelfSignedCertificate();
  const files = {
    serverKeyFile: join(dir, 'server.key'),
    serverCertFile: join(dir, 'server.crt'),
    dir,
  };
  await Promise.all([
    writeFile(files.serverKeyFile, server.key),
    writeFile(files.serverCertFile, server.cert),
  ]);
  report = await runInChild(files, files.serverCertFile);
}, 60_000);

describe('delegated sign-in with a device code (MSAL over HTTPS against the simulator)', () => {
  it('signs the user in once they enter the code, after authorization_pending polls', () => {
    expect(report.signedIn).toMatchObject({
      tenant: 'default',
      username: 'responder@contoso.example',
    });
    expect(report.prompt).toMatch(
      /open the page https:\/\/127\.0\.0\.1:\d+\/devicelogin and enter the code [A-Z]{9}/,
    );
    expect(report.pendingPolls).toBeGreaterThanOrEqual(1);
  });

  it('keeps the cache in a file only its owner can read', () => {
    expect(report.mode).toBe(0o600);
    expect(report.cacheHasAccount).toBe(true);
  });

  it('gives another process the user token silently, with scp and upn, and refreshes it', () => {
    expect(report.scp).toBe('Machine.Scan Machine.Read.All');
    expect(report.upn).toBe('responder@contoso.example');
    expect(report.cachedSame).toBe(true);
    expect(report.refreshedDiffers).toBe(true);
    expect(report.forcedCalls).toBe(1);
  });

  it('turns a revoked refresh token and a logout into a typed sign-in-required error', () => {
    expect(report.revoked).toEqual({
      signIn: true,
      reason: 'refresh-token-rejected',
      message:
        'Tenant default: the sign-in expired or was revoked (refresh token refused); run fleetscan login',
    });
    expect(report.signedOut).toEqual(['responder@contoso.example']);
    expect(report.afterLogout).toEqual({ signIn: true, reason: 'not-signed-in' });
  });

  it('explains AADSTS7000218 when the app registration does not allow public client flows', () => {
    expect(report.closed.code).toBe('public_client_flows_disabled');
    expect(report.closed.message).toMatch(/Allow public client flows/);
  });

  it('never writes a token to the log', () => {
    expect(report.logsLeak).toBe(false);
  });
});
