import { describe, expect, it } from 'vitest';
import {
  createAuthCheck,
  hashPassword,
  isLoopbackHost,
  refuseBind,
  verifyPassword,
} from '../../../src/dashboard/auth.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('password hashes', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const hash = await hashPassword('s3cret-wall-screen');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain('s3cret');
    expect(await verifyPassword('s3cret-wall-screen', hash)).toBe(true);
    expect(await verifyPassword('s3cret-wall-screen ', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it.each(['', 'plain', 'bcrypt$x$y', 'scrypt$0$8$1$c2FsdA$aGFzaA', 'scrypt$16384$8$1$$'])(
    'treats the malformed hash %j as no match',
    async (hash) => {
      expect(await verifyPassword('x', hash)).toBe(false);
    },
  );
});

describe('createAuthCheck', () => {
  it('accepts the bearer token, or the token as a basic password', async () => {
    const check = createAuthCheck({ token: 'tok-123' });
    expect(await check('Bearer tok-123')).toBe(true);
    expect(await check('bearer tok-123')).toBe(true);
    expect(await check(basic('anyone', 'tok-123'))).toBe(true);
    expect(await check('Bearer tok-1234')).toBe(false);
    expect(await check(undefined)).toBe(false);
    expect(await check('Bearer')).toBe(false);
    expect(await check('Digest tok-123')).toBe(false);
  });

  it('takes as long for an unknown user name as for a wrong password (no user-name oracle)', async () => {
    const check = createAuthCheck({ user: 'ops', passwordHash: await hashPassword('hunter22') });
    const time = async (user: string) => {
      const started = performance.now();
      for (let i = 0; i < 4; i += 1)
        expect(await check(basic(user, `wrong-${String(i)}`))).toBe(false);
      return performance.now() - started;
    };
    const known = await time('ops');
    const unknown = await time('nobody');
    // Both run scrypt (tens of ms each); without it the unknown name answered in microseconds.
    expect(unknown / known).toBeGreaterThan(0.25);
  });

  it('accepts the configured user with the right password only', async () => {
    const check = createAuthCheck({ user: 'ops', passwordHash: await hashPassword('hunter22') });
    expect(await check(basic('ops', 'hunter22'))).toBe(true);
    expect(await check(basic('ops', 'hunter22'))).toBe(true); // remembered, same answer
    expect(await check(basic('ops', 'hunter2'))).toBe(false);
    expect(await check(basic('root', 'hunter22'))).toBe(false);
    expect(await check('Bearer hunter22')).toBe(false);
  });
});

describe('bind rule', () => {
  it.each([['127.0.0.1'], ['localhost'], ['::1'], ['127.1.2.3']])(
    'allows loopback %s without credentials',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
      expect(refuseBind(host, {})).toBeNull();
    },
  );

  it('refuses a non-loopback bind without credentials and names the ways out', () => {
    expect(refuseBind('0.0.0.0', {})).toMatch(
      /refusing to listen on 0\.0\.0\.0 without credentials.*FLEETSCAN_DASHBOARD_TOKEN/,
    );
    expect(refuseBind('::', { user: 'ops' })).not.toBeNull(); // a user without a hash is no credential
    const tls = { tls: true, insecureBind: false };
    expect(refuseBind('0.0.0.0', { token: 't' }, tls)).toBeNull();
    expect(refuseBind('10.0.0.5', { user: 'ops', passwordHash: 'scrypt$...' }, tls)).toBeNull();
  });

  it('refuses a non-loopback bind without TLS unless --insecure-bind is given', () => {
    expect(refuseBind('0.0.0.0', { token: 't' })).toMatch(
      /refusing to listen on 0\.0\.0\.0 without TLS: pass --tls-cert and --tls-key.*--insecure-bind/,
    );
    expect(refuseBind('0.0.0.0', { token: 't' }, { tls: false, insecureBind: true })).toBeNull();
    expect(refuseBind('127.0.0.1', {}, { tls: false, insecureBind: false })).toBeNull();
  });
});
