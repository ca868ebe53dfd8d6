import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Got } from 'got';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { signInFromConfig } from '../../src/runtime/signin-from-config.js';
import { systemClock } from '../../src/shared/clock.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { signInAs, startSignInSimulator, trustingNetwork } from '../helpers/entra-signin.js';
import { testRedisUrl } from '../helpers/redis.js';
import { dashboardFixture, type DashboardFixture } from './dashboard-fixture.js';

const BURST = 1_000;
/** A group reaching this many refusals is logged once as a warning. */
const ALERT_AT = 400;
const ATTACKER = '203.0.113.66';
const NEIGHBOUR = '198.51.100.9';

let sim: Simulator;
let http: Got;
let fx: DashboardFixture;
let app: FastifyInstance;
/** The dashboard's log lines (JSON), to see the flood warning. */
const logged: { msg?: string; count?: number; who?: string }[] = [];

beforeAll(async () => {
  let simUrl: string;
  ({ sim, url: simUrl, http } = await startSignInSimulator());
  fx = dashboardFixture();
  const config = loadConfig({
    env: { DASHBOARD_SECRET: sim.credentials.clientSecret },
    overrides: {
      'redis.url': testRedisUrl(),
      'redis.prefix': fx.prefix,
      'dashboard.auth': 'entra',
      'dashboard.entra.tenantId': sim.credentials.tenantId,
      'dashboard.entra.clientId': sim.credentials.clientId,
      'dashboard.entra.clientSecretEnv': 'DASHBOARD_SECRET',
      'dashboard.entra.authorityHost': simUrl,
      'dashboard.entra.redirectUri': 'http://127.0.0.1:3000/signin/callback',
      // Long enough that a loaded host's burst stays inside one window.
      'api.denialWindow': '30m',
      'api.denialAlert': ALERT_AT,
    },
  });
  const log = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()) as (typeof logged)[number]);
        done();
      },
    }),
  );
  app = await buildDashboard(
    fx.deps({
      credentials: config.dashboard,
      signIn: signInFromConfig(config, {
        redis: fx.redis,
        clock: systemClock,
        log,
        network: trustingNetwork(http),
      }),
      audit: createAuditLog(fx.redis, fx.prefix),
    }),
  );
}, 30_000);

afterAll(async () => {
  await app.close();
  await fx.close();
  await sim.close();
});

/** A callback nobody started here, from `address`, as a scripted flood sends them. */
const badCallback = (address: string, n: number) =>
  app.inject({
    url: `/signin/callback?code=guess-${String(n)}&state=00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    remoteAddress: address,
  });

describe('refused dashboard sign-ins in the audit log', () => {
  it('collapses a burst of 1,000 bad callbacks from one address into one counted entry; sign-ins stay one entry each', async () => {
    const vera = await signInAs(app, http, 'vera@contoso.test');
    expect(vera.status).toBe(303);

    // The burst, 50 at a time (a script does not wait for each answer), and one from elsewhere.
    for (let sent = 0; sent < BURST; sent += 50) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => badCallback(ATTACKER, sent + i)),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array.from({ length: 50 }, () => 400));
    }
    expect((await badCallback(NEIGHBOUR, 1)).statusCode).toBe(400);
    // A person the token names but who holds no role: counted under their name, twice.
    for (let i = 0; i < 2; i++) {
      expect((await signInAs(app, http, 'nora@contoso.test')).status).toBe(403);
    }
    const otto = await signInAs(app, http, 'otto@contoso.test');
    expect(otto.status).toBe(303);

    const entries = (await createAuditLog(fx.redis, fx.prefix).list({ limit: 1_000 })).filter(
      (e) => e.action === 'dashboard.signin',
    );
    const refused = entries.filter((e) => e.outcome === 'refused');
    // A handful: one per address or person and status, each with its count.
    expect(refused).toHaveLength(3);
    const attacker = refused.find((e) => e.who === `address:${ATTACKER}`);
    expect(attacker).toMatchObject({ source: 'dashboard', from: ATTACKER, status: 400 });
    expect(attacker?.detail).toMatch(
      new RegExp(
        `^denied ×${String(BURST)} since \\S+Z: unknown_state: This sign-in was not started here`,
      ),
    );
    expect(refused.find((e) => e.who === `address:${NEIGHBOUR}`)?.detail).toMatch(
      /^denied: unknown_state: /,
    );
    const nora = refused.find((e) => e.who === 'dashboard:nora@contoso.test');
    expect(nora).toMatchObject({ source: 'dashboard', status: 403 });
    expect(nora?.detail).toMatch(/^denied ×2 since .*holds no FleetScan role/);
    expect(nora?.oid).toMatch(/^[0-9a-f-]{36}$/);

    // Every successful sign-in is its own entry, however many refusals came between.
    const ok = entries.filter((e) => e.outcome === 'ok');
    expect(ok.map((e) => e.who).sort()).toEqual([
      'dashboard:otto@contoso.test',
      'dashboard:vera@contoso.test',
    ]);
    expect(entries).toHaveLength(5);

    // The flood crossed the alert threshold once: one warning naming the address.
    const warnings = logged.filter((l) => l.msg?.includes('refused dashboard sign-ins') === true);
    expect(warnings).toMatchObject([{ who: `address:${ATTACKER}`, count: ALERT_AT }]);
    // The API's refusal counter is not the dashboard's.
    expect(await fx.redis.hgetall(`${fx.prefix}:audit:denial-totals`)).toEqual({});
    expect(await fx.redis.hgetall(`${fx.prefix}:audit:denial-totals:dashboard`)).toEqual({
      '400': String(BURST + 1),
      '403': '2',
    });
  }, 180_000);
});
