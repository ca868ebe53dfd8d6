import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ProblemSchema } from '../../src/api/problem.js';
import { startApiFixture, type ApiFixture } from './api-fixture.js';

// Issue 27 point 5: one write token must not stall the event loop that also answers /healthz
// (and, in the dashboard, /api/v1 and webhook deliveries). /healthz is polled every ~10 ms while
// a hostile 16 MiB body is parsed.
// How this stays deterministic on a loaded 2-core host: wall-clock gaps there include time the
// OS gave other processes (an idle poller here sees 100-400 ms at worst when 8 test runs share
// the cores), so the 100 ms bound is asserted on what this process can control: the CPU time
// (process.cpuUsage) spent between two ticks of a 2 ms timer, i.e. the longest stretch the event
// loop was busy and could not answer /healthz. A descheduled process burns no CPU, so load does
// not inflate it. The /healthz latency itself is asserted against a generous 1 s: before the
// bounded parsers the same bodies blocked it for 7-11 s on the same host (3.9 s and 6.3 s in
// the probe).

let t: ApiFixture | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

const MIB = 1 << 20;

/**
 * User + system CPU (ms) of the calling thread, the one running this event loop, from
 * /proc/thread-self/stat (fields 14 and 15, in clock ticks of 10 ms); null where there is none.
 */
function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls /healthz every ~10 ms until `stop()`; returns the worst latency seen (ms), and the most
 * CPU time (ms) this process spent between two ticks of a 2 ms timer (the longest busy loop turn).
 */
function pollHealth(base: string) {
  const state = { running: true };
  let worst = 0;
  let polls = 0;
  let busiest = 0;
  let lastCpu = process.cpuUsage();
  let lastThreadCpu = threadCpuMs();
  let lastTick = performance.now();
  const ticker = setInterval(() => {
    const cpu = process.cpuUsage(lastCpu);
    const threadCpu = threadCpuMs();
    const now = performance.now();
    // CPU beyond the wall time is other threads (GC helpers); wall time beyond the CPU is the OS
    // running other processes. Only the part that is both held the loop. The loop's own thread's
    // CPU (Linux counts it in 10 ms ticks, hence + 10) also bounds it: GC helper threads running
    // while this thread waited for a core are not the loop being busy.
    const held = Math.min(
      (cpu.user + cpu.system) / 1000,
      now - lastTick,
      threadCpu === null || lastThreadCpu === null ? Infinity : threadCpu - lastThreadCpu + 10,
    );
    busiest = Math.max(busiest, held);
    lastCpu = process.cpuUsage();
    lastThreadCpu = threadCpu;
    lastTick = now;
  }, 2);
  const done = (async () => {
    while (state.running) {
      const started = performance.now();
      const reply = await fetch(`${base}/healthz`);
      await reply.text();
      expect(reply.status).toBe(200);
      worst = Math.max(worst, performance.now() - started);
      polls += 1;
      await sleep(10);
    }
  })();
  return {
    async stop() {
      state.running = false;
      await done;
      clearInterval(ticker);
      return { worst, polls, busiest };
    },
  };
}

/**
 * POSTs `body` in 64 KiB writes that wait for the socket to drain. The client shares this event
 * loop with the server, so it must not stall it either: `fetch` copies a Buffer body whole in one
 * turn (undici's extractBody, 90-115 ms for 16 MiB on this host), which the poller counted
 * against the server.
 */
function postInChunks(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') });
      });
      res.on('error', reject);
    });
    // The server answers and closes as soon as it refuses the body, before all of it is sent.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const CHUNK = 64 * 1024;
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length && !req.destroyed) {
        const part = body.subarray(offset, offset + CHUNK);
        offset += part.length;
        if (!req.write(part)) {
          req.once('drain', writeMore);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    writeMore();
  });
}

async function postDuringPolls(
  fx: ApiFixture,
  token: string,
  contentType: string,
  path: string,
  body: Buffer,
) {
  const poller = pollHealth(fx.base);
  const reply = await postInChunks(
    `${fx.base}/api/v1${path}`,
    {
      authorization: `Bearer ${token}`,
      'content-type': contentType,
      'content-length': String(body.length),
    },
    body,
  );
  const problem = ProblemSchema.parse(JSON.parse(reply.text));
  return { status: reply.status, problem, ...(await poller.stop()) };
}

function expectResponsive(r: { worst: number; busiest: number }): void {
  const figures = `busiest loop turn ${r.busiest.toFixed(0)} ms CPU, worst /healthz ${r.worst.toFixed(0)} ms`;
  expect(r.busiest, figures).toBeLessThan(100);
  expect(r.worst, figures).toBeLessThan(1_000);
}

describe('hostile request bodies and the event loop', { timeout: 120_000 }, () => {
  it('keeps /healthz under 100 ms while a 16 MiB NDJSON body of {} lines is refused', async () => {
    t = await startApiFixture({ worker: false });
    const writer = await t.token(['write']);
    // Bytes made up front: encoding a 16 MiB string is the test client's cost, not the server's.
    const body = Buffer.from('{}\n'.repeat(Math.floor((16 * MIB) / 3)));
    const r = await postDuringPolls(
      t,
      writer,
      'application/x-ndjson',
      '/campaigns?comment=flood',
      body,
    );
    expect(r.status).toBe(400);
    expect(r.problem.detail).toMatch(
      /^The NDJSON body has more than 1000000 lines|device ids are not machine ids/,
    );
    expect(r.polls).toBeGreaterThan(3);
    expectResponsive(r);
    expect(await t.runtime.store.listCampaigns()).toEqual([]);
  });

  it('keeps /healthz under 100 ms while JSON nested 5 million deep in devices is refused', async () => {
    t = await startApiFixture({ worker: false });
    const writer = await t.token(['write']);
    const depth = 5_000_000;
    const body = Buffer.from(
      `{"comment":"deep","devices":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    );
    const r = await postDuringPolls(t, writer, 'application/json', '/campaigns', body);
    expect(r.status).toBe(400);
    expect(r.problem.detail).toBe('The body nests deeper than 32 levels (at character 59)');
    expectResponsive(r);
  });
});
