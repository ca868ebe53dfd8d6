import { describe, expect, it } from 'vitest';
import { follow, type FollowView } from '../../../src/cli/commands/shared/follow.js';
import { createOutageRider, RedisOutageError } from '../../../src/runtime/redis-outage.js';

/** A clock that moves only when slept on, and an output that keeps what is written. */
function harness(toleranceMs = 120_000) {
  let now = 0;
  const lines: string[] = [];
  const out = {
    isTTY: false,
    write: (text: string) => {
      lines.push(...text.split('\n').filter(Boolean));
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const clock = {
    now: () => now,
    sleep: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
  };
  const said: string[] = [];
  const outage = createOutageRider({
    toleranceMs,
    where: 'redis://127.0.0.1:6390/',
    clock,
    say: (m) => said.push(m),
  });
  let retries = 0;
  const options = {
    intervalMs: 2_000,
    warnWithoutWorkersMs: 30_000,
    out,
    clock,
    outage,
    beforeRetry: () => {
      retries++;
    },
  };
  return { lines, said, options, retries: () => retries, now: () => now };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
const view = (done: boolean, noWorkers: boolean): FollowView => ({
  line: `done=${String(done)}`,
  done,
  noWorkers,
});

describe('status --wait (follow)', () => {
  it('warns once after 30 s of waiting work with no worker, then finishes when a worker did the work', async () => {
    const h = harness();
    let reads = 0;
    const result = await follow(
      () => Promise.resolve(++reads),
      (n) => view(n >= 30, n < 25),
      h.options,
    );
    expect(result).toBe(30);
    const warnings = h.lines.filter((l) => l.startsWith('Warning:'));
    expect(warnings).toEqual([
      'Warning: devices have waited 30s with no live worker, so nothing is being called for. Start one with `fleetscan worker` (same configuration and tenants as this campaign).',
    ]);
  });

  it('rides out a Redis outage shorter than the tolerance with one message each way', async () => {
    const h = harness();
    let reads = 0;
    const result = await follow(
      () => {
        reads++;
        if (reads >= 2 && reads <= 8) return Promise.reject(refused());
        return Promise.resolve(reads);
      },
      (n) => view(n >= 10, false),
      h.options,
    );
    expect(result).toBe(10);
    expect(h.said).toEqual([
      'Redis is unreachable at redis://127.0.0.1:6390/; retrying for up to 2m (redis.outageTolerance).',
      'Redis is reachable again at redis://127.0.0.1:6390/; continuing.',
    ]);
    expect(h.retries()).toBe(7);
  });

  it('gives up after the tolerance with one sentence and the fix, never the client internals', async () => {
    const h = harness(10_000);
    const lost = Object.assign(
      new Error(
        'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      ),
      { name: 'MaxRetriesPerRequestError' },
    );
    const waiting = follow(
      () => Promise.reject(lost),
      () => view(false, false),
      h.options,
    );
    await expect(waiting).rejects.toBeInstanceOf(RedisOutageError);
    await expect(waiting).rejects.toThrow(
      'Redis has been unreachable at redis://127.0.0.1:6390/ for longer than 10s (redis.outageTolerance): start Redis or point REDIS_URL at it, then run the command again (raise FLEETSCAN_REDIS_OUTAGE_TOLERANCE to wait longer).',
    );
    expect(h.now()).toBe(10_000);
  });

  it('stops at once on a refusal that waiting cannot cure, and on errors that are not about Redis', async () => {
    const h = harness();
    const wrongPass = new Error('WRONGPASS invalid username-password pair or user is disabled.');
    await expect(
      follow(
        () => Promise.reject(wrongPass),
        () => view(false, false),
        h.options,
      ),
    ).rejects.toThrow(
      'Redis at redis://127.0.0.1:6390/ refused the credentials: check FLEETSCAN_REDIS_USERNAME and REDIS_PASSWORD (or FLEETSCAN_REDIS_PASSWORD_FILE).',
    );
    const bug = new TypeError('x is undefined');
    await expect(
      follow(
        () => Promise.reject(bug),
        () => view(false, false),
        h.options,
      ),
    ).rejects.toBe(bug);
    expect(h.said).toEqual([]);
  });
});
