import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/shared/redis-server.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';

/** The ACL rules README "Secure Redis" documents, for the key prefixes `fleetscan*`. */
export const FLEETSCAN_ACL = ['~fleetscan*', '&fleetscan*', '+@all', '-@dangerous', '+info'];

export interface SecureRedis {
  url: string;
  dir: string;
  caFile: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * A private redis-server that speaks TLS only (its certificate signed by a CA of its own, in
 * `caFile`), with the default user off and one ACL user limited to `fleetscan*` keys.
 */
export async function startSecureRedis(): Promise<SecureRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-secure-redis-'));
  const tls = await createSelfSignedCertificate();
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, tls.cert);
  writeFileSync(join(dir, 'redis.key'), tls.key);
  const port = await freePort();
  const username = 'fleetscan';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const child = spawn(
    'redis-server',
    [
      '--port', '0',
      '--tls-port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction',
      '--tls-cert-file', caFile,
      '--tls-key-file', join(dir, 'redis.key'),
      '--tls-ca-cert-file', caFile,
      '--tls-auth-clients', 'no',
      '--user', 'default', 'off',
      '--user', username, 'on', `>${password}`, ...FLEETSCAN_ACL,
    ],
    { stdio: 'ignore' },
  ); // prettier-ignore
  const url = `rediss://127.0.0.1:${String(port)}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const probe = new Redis(url, {
      username,
      password,
      tls: { ca: tls.cert },
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => undefined);
    const ok = await probe
      .connect()
      .then(() => probe.ping())
      .then(() => true)
      .catch(() => false);
    probe.disconnect();
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the TLS redis-server did not answer within 10 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    dir,
    caFile,
    username,
    password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
