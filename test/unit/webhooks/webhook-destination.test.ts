import { describe, expect, it } from 'vitest';
import { isRefusedAddress, networkList, parseCidr } from '../../../src/shared/address-ranges.js';
import { createGuessThrottle } from '../../../src/shared/guess-throttle.js';
import type { Clock } from '../../../src/shared/clock.js';
import {
  createDestinationGuard,
  DestinationRefusedError,
  maskedUrl,
  pinnedLookup,
  type Resolve,
} from '../../../src/webhooks/webhook-destination.js';

/** A resolver that answers from a table and never asks a real DNS server. */
const table =
  (answers: Record<string, string[]>): Resolve =>
  (hostname) => {
    const found = answers[hostname];
    if (!found) return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    );
  };

const strict = { allowHttp: false, allowNetworks: [] };

describe('webhook destination guard', () => {
  it.each([
    'https://169.254.169.254/latest/meta-data/',
    'https://[::1]/hook',
    'https://0.0.0.0/hook',
    'https://2130706433/hook',
    'https://10.1.2.3/hook',
    'https://0x7f.1/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[fd00:ec2::254]/hook',
    'https://100.100.100.200/hook',
  ])('refuses %s', async (url) => {
    const guard = createDestinationGuard(strict, table({}));
    await expect(guard.resolve(url)).rejects.toBeInstanceOf(DestinationRefusedError);
  });

  it('refuses a name whose DNS answer holds one internal address among public ones', async () => {
    const guard = createDestinationGuard(
      strict,
      table({ 'hooks.example.org': ['203.0.113.7', '10.0.0.5'] }),
    );
    await expect(guard.resolve('https://hooks.example.org/x')).rejects.toThrow(
      /hooks\.example\.org is or resolves to 10\.0\.0\.5, an internal address: name its network in webhooks\.allowNetworks/,
    );
  });

  it('accepts a public https receiver and returns the addresses to pin', async () => {
    const guard = createDestinationGuard(strict, table({ 'hooks.example.org': ['203.0.113.7'] }));
    expect(await guard.resolve('https://hooks.example.org/x')).toEqual([
      { address: '203.0.113.7', family: 4 },
    ]);
  });

  it('refuses plain http unless allowed, and internal ranges unless allow-listed', async () => {
    const resolve = table({ 'siem.corp': ['10.20.1.5'] });
    await expect(
      createDestinationGuard(strict, resolve).resolve('http://siem.corp/'),
    ).rejects.toThrow(/http receivers are refused: use https \(or set webhooks\.allowHttp\)/);
    const allowed = createDestinationGuard(
      { allowHttp: true, allowNetworks: ['10.20.0.0/16'] },
      resolve,
    );
    expect(await allowed.resolve('http://siem.corp/')).toEqual([
      { address: '10.20.1.5', family: 4 },
    ]);
    await expect(allowed.resolve('http://10.21.0.1/')).rejects.toThrow(/internal address/);
    await expect(allowed.resolve('ftp://siem.corp/')).rejects.toThrow(/ftp receivers/);
  });

  it('refuses a name that does not resolve, saying so', async () => {
    const guard = createDestinationGuard(strict, table({}));
    await expect(guard.resolve('https://nowhere.invalid/')).rejects.toThrow(
      /nowhere\.invalid does not resolve \(ENOTFOUND\)/,
    );
  });

  it('pins the connection to the checked addresses, whatever the name', () => {
    const lookup = pinnedLookup([
      { address: '203.0.113.7', family: 4 },
      { address: '2001:db8::7', family: 6 },
    ]);
    const seen: unknown[] = [];
    lookup('evil.example', { all: true }, (error, addresses) => seen.push(error, addresses));
    lookup('evil.example', { family: 6 }, (error, address, family) =>
      seen.push(error, address, family),
    );
    expect(seen).toEqual([
      null,
      [
        { address: '203.0.113.7', family: 4 },
        { address: '2001:db8::7', family: 6 },
      ],
      null,
      '2001:db8::7',
      6,
    ]);
  });

  it('shows read tokens the origin only, never credentials, path or query', () => {
    expect(maskedUrl('https://user:pw@hooks.example.org:8443/T0/B1/sec?sig=abc')).toBe(
      'https://hooks.example.org:8443/…',
    );
    expect(maskedUrl('https://hooks.example.org/')).toBe('https://hooks.example.org/');
  });
});

describe('address ranges', () => {
  it.each([
    ['127.0.0.1', true],
    ['169.254.169.254', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['100.64.0.1', true],
    ['255.255.255.255', true],
    ['fe80::1', true],
    ['64:ff9b::a00:1', true],
    ['8.8.8.8', false],
    ['203.0.113.7', false],
    ['2606:4700::1111', false],
  ] as const)('%s refused: %s', (address, refused) => {
    expect(isRefusedAddress(address, networkList([]))).toBe(refused);
  });

  it('parses CIDRs and rejects what is not one', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 4 });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 6 });
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('example.org/8')).toBeNull();
    expect(parseCidr('10.0.0.0')).toBeNull();
  });
});

describe('guess throttle', () => {
  it('answers at most five failures per key in any second', () => {
    let now = 1_000_000;
    const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
    const throttle = createGuessThrottle({ perWindow: 5, windowMs: 1_000, clock });
    const key = ['address:198.51.100.9'];
    // A guesser trying every 10 ms for 60 s: only guesses let through are checked (and fail).
    const checkedAt: number[] = [];
    for (let t = 0; t < 60_000; t += 10) {
      now = 1_000_000 + t;
      if (throttle.waitMs(key) > 0) continue;
      checkedAt.push(now);
      throttle.fail(key);
    }
    expect(checkedAt.length).toBeLessThanOrEqual(5 * 60);
    expect(checkedAt.length).toBeGreaterThan(0);
    for (let i = 5; i < checkedAt.length; i += 1) {
      expect((checkedAt[i] ?? 0) - (checkedAt[i - 5] ?? 0)).toBeGreaterThanOrEqual(1_000);
    }
    expect(throttle.waitMs(['address:203.0.113.1'])).toBe(0);
  });
});
