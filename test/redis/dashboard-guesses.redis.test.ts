import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/dashboard/auth.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { Clock } from '../../src/shared/clock.js';
import { testRedisUrl } from '../helpers/redis.js';
import { dashboardFixture, type DashboardFixture } from './dashboard-fixture.js';

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

let fx: DashboardFixture;
let app: FastifyInstance | undefined;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(() => {
  fx = dashboardFixture();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await app?.close();
  app = undefined;
  await fx.close();
});

/** A clock the test moves: the throttle's seconds pass without waiting for them. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_800_000_000_000;
  return {
    now: () => now,
    sleep: () => Promise.resolve(),
    advance(ms) {
      now += ms;
    },
  };
}

describe('dashboard login throttle', () => {
  it('checks at most five basic-auth guesses per second from one address', async () => {
    const clock = fakeClock();
    const passwordHash = await hashPassword('correct horse battery');
    app = await buildDashboard(fx.deps({ credentials: { user: 'ops', passwordHash }, clock }));
    const answers = new Map<number, number>();
    // 200 guesses, one every 20 ms of the clock: 4 s, 50 a second offered.
    for (let i = 0; i < 200; i += 1) {
      const res = await app.inject({
        url: '/',
        headers: basic('ops', `guess-${String(i)}`),
        remoteAddress: '198.51.100.7',
      });
      answers.set(res.statusCode, (answers.get(res.statusCode) ?? 0) + 1);
      clock.advance(20);
    }
    const checked = answers.get(401) ?? 0;
    expect(checked + (answers.get(429) ?? 0)).toBe(200);
    expect(checked / 4).toBeLessThanOrEqual(5);
    expect(checked).toBeGreaterThanOrEqual(15);

    // Another address is not held up by this one, and the right password works from it.
    const other = await app.inject({
      url: '/',
      headers: basic('ops', 'correct horse battery'),
      remoteAddress: '203.0.113.20',
    });
    expect(other.statusCode).toBe(200);
    // A throttled answer says when to come back, and checks nothing: not even the right password.
    for (let i = 0; i < 5; i += 1) {
      await app.inject({ url: '/', headers: basic('ops', 'x'), remoteAddress: '198.51.100.7' });
    }
    const throttled = await app.inject({
      url: '/',
      headers: basic('ops', 'correct horse battery'),
      remoteAddress: '198.51.100.7',
    });
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('slows guesses for one user name spread over many addresses to 20 a second', async () => {
    const clock = fakeClock();
    const passwordHash = await hashPassword('correct horse battery');
    app = await buildDashboard(fx.deps({ credentials: { user: 'ops', passwordHash }, clock }));
    let checked = 0;
    for (let i = 0; i < 100; i += 1) {
      const res = await app.inject({
        url: '/',
        headers: basic('ops', `guess-${String(i)}`),
        remoteAddress: `198.51.100.${String(i + 1)}`,
      });
      if (res.statusCode === 401) checked += 1;
      clock.advance(5);
    }
    // 100 guesses in 0.5 s: at most 20 reach the password check.
    expect(checked).toBe(20);
  });

  it('counts failed bearer tokens per address too, and never a request without credentials', async () => {
    const clock = fakeClock();
    app = await buildDashboard(fx.deps({ clock }));
    for (let i = 0; i < 20; i += 1) {
      expect((await app.inject({ url: '/', remoteAddress: '198.51.100.9' })).statusCode).toBe(401);
    }
    const codes: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await app.inject({
        url: '/',
        headers: { authorization: `Bearer wrong-${String(i)}` },
        remoteAddress: '198.51.100.9',
      });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });
});

describe('bull-board behind the action token', () => {
  it('refuses queue changes without the action token, and takes the cookie its page sets', async () => {
    const queue = new Queue(`guard-${fx.prefix}`, {
      connection: { url: testRedisUrl() },
      prefix: fx.prefix,
    });
    closers.push(() => queue.close());
    app = await buildDashboard(fx.deps({ queue, allowActions: true }));
    const bearer = { authorization: 'Bearer test-token-0123456789' };
    const pauseUrl = `/queues/api/queues/${queue.name}/pause`;

    const refused = await app.inject({ method: 'PUT', url: pauseUrl, headers: bearer });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: 'missing or wrong action token' });
    expect(await queue.isPaused()).toBe(false);

    const page = await app.inject({ url: '/queues', headers: bearer });
    expect(page.statusCode).toBe(200);
    const cookie = String(page.headers['set-cookie'] ?? '');
    expect(cookie).toMatch(/^fleetscan_action=[\w-]+; Path=\/queues; HttpOnly; SameSite=Strict$/);

    const accepted = await app.inject({
      method: 'PUT',
      url: pauseUrl,
      headers: { ...bearer, cookie: cookie.split(';')[0] ?? '' },
    });
    expect(accepted.statusCode).toBe(200);
    expect(await queue.isPaused()).toBe(true);
  });
});
