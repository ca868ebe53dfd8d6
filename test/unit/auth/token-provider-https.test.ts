import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../../src/simulator/tls.js';
import { createAppCertificate } from './app-certificate.js';
import type { run } from './fixtures/https-tokens.js';

type Report = Awaited<ReturnType<typeof run>>;
const ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURE = resolve(import.meta.dirname, 'fixtures/https-tokens.ts');

/** Runs the fixture in a fresh Node whose trust store includes the simulator's certificate. */
async function runInChild(input: unknown, caFile: string): Promise<Report> {
  const script = `
    import { runnerImport } from 'vite';
    const { module } = await runnerImport(${JSON.stringify(FIXTURE)}, { root: ${JSON.stringify(ROOT)}, configFile: false, logLevel: 'silent' });
    const report = await module.run(JSON.parse(process.env.FLEETSCAN_TOKEN_TEST));
    process.stdout.write('\\nREPORT ' + JSON.stringify(report) + '\\n');
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caFile,
      FLEETSCAN_TOKEN_TEST: JSON.stringify(input),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const line = out.split('\n').find((l) => l.startsWith('REPORT '));
  if (code !== 0 || !line) throw new Error(`child exited ${String(code)}:\n${err.slice(-4000)}`);
  return JSON.parse(line.slice('REPORT '.length)) as Report;
}

let report: Report;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetscan-tokens-'));
  const [server, app] = await Promise.all([createSelfSignedCertificate(), createAppCertificate()]);
  const files = {
    serverKeyFile: join(dir, 'server.key'),
    serverCertFile: join(dir, 'server.crt'),
    appCertFile: join(dir, 'app.pem'),
    appEncryptedFile: join(dir, 'app-encrypted.pem'),
    password: app.password,
  };
  await Promise.all([
    writeFile(files.serverKeyFile, server.key),
    writeFile(files.serverCertFile, server.cert),
    writeFile(files.appCertFile, `${app.cert}\n${app.key}`),
    writeFile(files.appEncryptedFile, `${app.cert}\n${app.encryptedKey}`),
  ]);
  report = await runInChild(files, files.serverCertFile);
});

describe('tokens from the simulator over HTTPS, through MSAL unmocked', () => {
  it('gets a token with a client secret, serves it from the cache, and renews it on demand', () => {
    expect(report.secret).toEqual({
      kind: 'secret',
      burstRequests: 1,
      cached: true,
      valid: true,
      requests: 2,
      refreshes: 2,
    });
  });

  it('gets tokens with a certificate, its key plain or encrypted', () => {
    expect(report.certificate).toEqual({ kind: 'certificate', tokens: 2, requests: 2 });
  });

  it('does not retry a rejected secret and never echoes it', () => {
    expect(report.wrongSecret).toEqual({
      isTokenError: true,
      code: 'invalid_client',
      transient: false,
      requests: 1,
      echoed: false,
    });
  });

  it('refreshes the token once after a 401 and succeeds', () => {
    expect(report.reauth).toEqual({
      sameMachine: true,
      unauthorized: 1,
      requests: 2,
      refreshes: 2,
    });
  });

  it("reuses a token shorter-lived than MSAL's renewal margin: one request for 25 calls", () => {
    expect(report.shortLived.requests).toBe(1);
  });

  it('logs a routine token acquisition at debug, below what a terminal shows', () => {
    expect(report.acquiredLevels).toEqual([20]);
  });

  it('keeps secrets and tokens out of the logs', () => {
    expect(report.logLines).toBeGreaterThan(0);
    expect(report.logsLeak).toBe(false);
  });
});
