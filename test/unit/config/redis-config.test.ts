import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { configError } from '../../helpers/config-error.js';
import { explainRedisError } from '../../../src/shared/redis-errors.js';

const CANARY = 'canary-redis-pw-93b1';

describe('secure Redis settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-redis-config-'));

  it('reads the password from a file and takes TLS files and the ACL user from variables', () => {
    const passwordFile = join(dir, 'password');
    const caFile = join(dir, 'ca.pem');
    writeFileSync(passwordFile, `${CANARY}\n`);
    writeFileSync(caFile, 'pem');
    const config = loadConfig({
      env: {
        REDIS_URL: 'rediss://redis.internal:6380',
        FLEETSCAN_REDIS_USERNAME: 'fleetscan',
        FLEETSCAN_REDIS_PASSWORD_FILE: passwordFile,
        FLEETSCAN_REDIS_CA_FILE: caFile,
      },
    });
    expect(config.redis).toMatchObject({
      username: 'fleetscan',
      password: CANARY,
      tls: { caFile },
    });
  });

  it('names unreadable files and a certificate without its key, all at once', () => {
    const error = configError(() =>
      loadConfig({
        env: {
          FLEETSCAN_REDIS_PASSWORD_FILE: join(dir, 'missing'),
          FLEETSCAN_REDIS_CA_FILE: join(dir, 'missing-ca.pem'),
          FLEETSCAN_REDIS_CERT_FILE: join(dir, 'missing-ca.pem'),
        },
      }),
    );
    expect(error.issues.map((issue) => [issue.path, issue.source])).toEqual([
      ['redis.passwordFile', 'FLEETSCAN_REDIS_PASSWORD_FILE'],
      ['redis.tls.caFile', 'FLEETSCAN_REDIS_CA_FILE'],
      ['redis.tls.certFile', 'FLEETSCAN_REDIS_CERT_FILE'],
      ['redis.tls.keyFile', 'FLEETSCAN_REDIS_CERT_FILE'],
    ]);
  });

  it('refuses a password written in a configuration file, without echoing it', () => {
    const file = join(dir, 'fleetscan.yaml');
    writeFileSync(file, `redis:\n  password: ${CANARY}\n`);
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.issues[0]).toMatchObject({ path: 'redis.password', source: file });
    expect(error.message).toContain('REDIS_PASSWORD');
    expect(error.message).not.toContain(CANARY);
  });

  it('accepts the password from REDIS_PASSWORD', () => {
    expect(loadConfig({ env: { REDIS_PASSWORD: CANARY } }).redis.password).toBe(CANARY);
  });
});

describe('explainRedisError', () => {
  it.each([
    [
      new Error('WRONGPASS invalid username-password pair or user is disabled.'),
      true,
      /refused the credentials/,
    ],
    [new Error('NOPERM this user has no permissions to access one of the keys'), true, /ACL user/],
    [
      Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      true,
      /FLEETSCAN_REDIS_CA_FILE/,
    ],
    [
      new Error('connect ECONNREFUSED 127.0.0.1:6399'),
      false,
      /unreachable at .*Start Redis or set REDIS_URL/,
    ],
  ])('explains %s', (error, lasting, message) => {
    const problem = explainRedisError(error, 'redis://127.0.0.1:6399');
    expect(problem.lasting).toBe(lasting);
    expect(problem.message).toMatch(message);
  });
});
