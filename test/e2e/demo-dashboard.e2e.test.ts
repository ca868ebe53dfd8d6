import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { got, type Got } from 'got';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, spawnCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { cookieHeader, cookiesOf } from '../helpers/entra-signin.js';
import { testRedisUrl } from '../helpers/redis.js';

let redis: Redis;

beforeAll(async () => {
  await ensureBuilt();
  redis = new Redis(testRedisUrl());
}, 240_000);

afterAll(() => {
  redis.disconnect();
});

/** What the demo printed before its campaign: where to sign in and as whom. */
function readFacts(out: string) {
  const match = (re: RegExp) => {
    const found = re.exec(out)?.[1];
    if (!found) throw new Error(`no ${String(re)} in the demo's output:\n${out}`);
    return found;
  };
  const users = new Map(
    [...out.matchAll(/^ {4}(viewer|operator|admin) +(\S+@\S+) +\(/gm)].map((m) => [m[1], m[2]]),
  );
  return {
    url: match(/^Dashboard (http:\/\/127\.0\.0\.1:\d+\/) \(/m),
    caFile: match(/or trust (\S+)\)$/m),
    prefix: match(/key prefix (fleetscan-demo-[0-9a-f]+)$/m),
    campaignId: match(/^Campaign (c-\S+) created/m),
    users,
  };
}

/**
 * A person's sign-in over plain HTTP, as a browser does it: the dashboard's `/signin`, the
 * simulator's sign-in page, the pick, the callback. The session's cookie header.
 */
async function signIn(http: Got, url: string, username: string): Promise<string> {
  const start = await http(new URL('signin?returnTo=/', url), { headers: { accept: 'text/html' } });
  expect(start.statusCode).toBe(302);
  const jar = cookiesOf(start.headers['set-cookie']);
  const authorize = String(start.headers.location);
  const picker = await http(authorize);
  expect(picker.body).toContain(username);
  const flow = /name="flow" value="([^"]+)"/.exec(picker.body)?.[1] ?? '';
  const picked = await http.post(authorize, { form: { flow, username } });
  const callback = String(picked.headers.location);
  expect(callback.startsWith(`${url}signin/callback?`), callback).toBe(true);
  const done = await http(callback, { headers: { cookie: cookieHeader(jar) } });
  expect(done.statusCode, done.body).toBe(303);
  cookiesOf(done.headers['set-cookie'], jar);
  expect(jar.has('__Host-fleetscan_session')).toBe(true);
  return cookieHeader(jar);
}

describe('fleetscan demo --dashboard', () => {
  it('serves the demo campaign to signed-in users by role, then cleans up on Ctrl-C', async () => {
    const out = join(tmpdir(), `fleetscan-demo-dashboard-e2e-${String(process.pid)}.csv`);
    const run: CliProcess = spawnCli(
      [
        'demo',
        '--devices',
        '100',
        '--time-scale',
        '600',
        '--workers',
        '2',
        '--dashboard',
        '--out',
        out,
      ],
      { env: { REDIS_URL: testRedisUrl() } },
    );
    try {
      // The sign-in facts come before the campaign; the campaign ends before the hold.
      await waitForOutput(run, (text) => text.includes('Campaign c-'), 180_000);
      await waitForOutput(run, (text) => text.includes('Ctrl-C to stop'), 180_000);
      const printed = run.stdout();
      expect(printed.indexOf('Dashboard http://127.0.0.1:')).toBeLessThan(
        printed.indexOf('Campaign c-'),
      );
      const facts = readFacts(printed);
      expect([...facts.users.keys()]).toEqual(['viewer', 'operator', 'admin']);
      const http = got.extend({
        https: { certificateAuthority: readFileSync(facts.caFile) },
        throwHttpErrors: false,
        followRedirect: false,
        retry: { limit: 0 },
        timeout: { request: 30_000 },
      });

      // Nobody signed in: the dashboard asks for a sign-in.
      const anonymous = await http(facts.url, { headers: { accept: 'text/html' } });
      expect(anonymous.statusCode).not.toBe(200);

      const operator = await signIn(http, facts.url, facts.users.get('operator') ?? '');
      const overview = await http(facts.url, { headers: { cookie: operator } });
      expect(overview.statusCode).toBe(200);
      expect(overview.body).toContain(facts.campaignId);
      expect(overview.body).toContain('Otto Operator');
      // The workers keep running after the summary: a campaign started from the page would run.
      expect(overview.body).toContain('data-workers="2"');

      const viewer = await signIn(http, facts.url, facts.users.get('viewer') ?? '');
      const page = await http(new URL(`campaigns/${facts.campaignId}`, facts.url), {
        headers: { cookie: viewer },
      });
      expect(page.statusCode).toBe(200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
      expect(csrf).toBeTruthy();
      const pause = await http.post(new URL(`campaigns/${facts.campaignId}/pause`, facts.url), {
        headers: { cookie: viewer, origin: facts.url.replace(/\/$/, '') },
        form: { csrf },
      });
      expect(pause.statusCode).toBe(403);
      expect(pause.body).toContain('This needs the FleetScan.Operator role');

      expect(run.child.kill('SIGINT')).toBe(true);
      const result = await run.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`Stopped; the keys of ${facts.prefix}`);
      expect(await redis.keys(`${facts.prefix}:*`)).toEqual([]);
      await expect(http(facts.url, { timeout: { request: 2_000 } })).rejects.toThrow();
    } finally {
      // A failed assertion still lets the demo clean its keys up; SIGKILL only if it hangs.
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGINT');
        const timer = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
        await run.exited;
        clearTimeout(timer);
      }
      rmSync(out, { force: true });
    }
  }, 400_000);

  it('refuses a --dashboard-port in use, naming the flag, and starts nothing', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await runCli(['demo', '--dashboard', '--dashboard-port', String(port)], {
        env: { REDIS_URL: testRedisUrl() },
        timeoutMs: 60_000,
      });
      expect(result.code).toBe(1);
      // Refused before Redis, the simulator or a child started: the one line is all it printed
      // (a demo that started prints its Redis and key prefix first).
      expect(result.stderr).toBe(
        `fleetscan: --dashboard-port: cannot listen on 127.0.0.1:${String(port)} (in use); ` +
          'pick another port, or leave the flag out for a free one\n',
      );
      expect(result.stdout).toBe('');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 90_000);

  it('refuses a --dashboard-port that is no port, and one without --dashboard', async () => {
    const notNumber = await runCli(['demo', '--dashboard', '--dashboard-port', 'abc']);
    expect(notNumber.code).toBe(1);
    expect(notNumber.stderr).toContain(
      'Expected --dashboard-port to be a whole number from 1 to 65535, got abc',
    );
    const alone = await runCli(['demo', '--dashboard-port', '3000']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('--dashboard-port needs --dashboard');
    const help = await runCli(['demo', '--help']);
    expect(help.stdout).toContain('--dashboard ');
    expect(help.stdout).toContain('--dashboard-port <n>');
  }, 90_000);
});
