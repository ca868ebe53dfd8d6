import { describe, expect, it } from 'vitest';
import {
  checkCron,
  CronError,
  jitterFor,
  nextFire,
  nextPlannedAfter,
  overlapVerdict,
  planDue,
} from '../../../src/schedules/plan-fires.js';

const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const HOUR = 3_600_000;
const MIN = 60_000;

function spec(overrides: Partial<Parameters<typeof planDue>[0]> = {}) {
  return {
    name: 'nightly',
    cron: '30 2 * * *',
    tz: 'UTC',
    startAt: null,
    endAt: null,
    jitterMs: 0,
    catchupMs: HOUR,
    maxRuns: null,
    ...overrides,
  };
}

/** Every planned time in [from, to), as ISO strings. */
function plannedBetween(s: ReturnType<typeof spec>, from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let p = nextPlannedAfter(s, at(from) - 1);
    p !== null && p < at(to);
    p = nextPlannedAfter(s, p)
  )
    out.push(new Date(p).toISOString());
  return out;
}

describe('nextPlannedAfter across DST', () => {
  it.each([
    // Spring forward: 02:30 does not exist that night; the run happens once, at 03:30 local.
    [
      'Europe/Berlin',
      '2026-03-28T12:00Z',
      '2026-03-31T00:00Z',
      ['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    ],
    [
      'America/New_York',
      '2026-03-07T12:00Z',
      '2026-03-10T00:00Z',
      ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    ],
    // Fall back: 02:30 happens twice in Berlin (CEST, then CET); the run happens once.
    [
      'Europe/Berlin',
      '2026-10-24T12:00Z',
      '2026-10-27T00:00Z',
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ],
    [
      'America/New_York',
      '2026-10-31T12:00Z',
      '2026-11-03T00:00Z',
      ['2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z'],
    ],
  ])('fires 02:30 daily in %s exactly once per day around the change', (tz, from, to, expected) => {
    expect(plannedBetween(spec({ tz }), from, to)).toEqual(expected);
  });

  it('fires a New York 01:30 job once on the night 01:30 happens twice', () => {
    const s = spec({ tz: 'America/New_York', cron: '30 1 * * *' });
    expect(plannedBetween(s, '2026-11-01T00:00Z', '2026-11-02T00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z',
    ]);
  });

  it('keeps an hourly job hourly in real time through both changes in Berlin', () => {
    const s = spec({ tz: 'Europe/Berlin', cron: '0 * * * *' });
    const spring = plannedBetween(s, '2026-03-28T23:00Z', '2026-03-29T04:00Z');
    const fall = plannedBetween(s, '2026-10-24T22:00Z', '2026-10-25T03:00Z');
    for (const list of [spring, fall]) {
      const gaps = list.slice(1).map((t, i) => at(t) - at(list[i] ?? t));
      expect(gaps.every((g) => g === HOUR)).toBe(true);
    }
  });

  it('is strictly after the given instant', () => {
    const s = spec({ cron: '* * * * *' });
    expect(iso(nextPlannedAfter(s, at('2026-01-01T00:00:00Z')))).toBe('2026-01-01T00:01:00.000Z');
  });
});

describe('start, end and max runs', () => {
  it('plans nothing before start and nothing after end', () => {
    const s = spec({ startAt: at('2026-01-03T00:00Z'), endAt: at('2026-01-05T02:30Z') });
    expect(plannedBetween(s, '2026-01-01T00:00Z', '2026-01-10T00:00Z')).toEqual([
      '2026-01-03T02:30:00.000Z',
      '2026-01-04T02:30:00.000Z',
      '2026-01-05T02:30:00.000Z',
    ]);
  });

  it('includes a planned time equal to start', () => {
    const s = spec({ startAt: at('2026-01-03T02:30Z') });
    expect(iso(nextPlannedAfter(s, at('2026-01-01T00:00Z')))).toBe('2026-01-03T02:30:00.000Z');
  });

  it('has no next fire once max runs were started', () => {
    const s = spec({ maxRuns: 2 });
    expect(nextFire(s, { cursor: 0, runs: 1 })).not.toBeNull();
    expect(nextFire(s, { cursor: 0, runs: 2 })).toBeNull();
    expect(
      planDue(s, { cursor: at('2026-01-01T00:00Z'), runs: 2 }, at('2026-01-09T00:00Z')),
    ).toEqual([]);
  });

  it('has no next fire after end', () => {
    const s = spec({ endAt: at('2026-01-05T00:00Z') });
    expect(nextFire(s, { cursor: at('2026-01-04T03:00Z'), runs: 0 })).toBeNull();
  });
});

describe('planDue: catch-up', () => {
  const every10 = spec({ cron: '*/10 * * * *', catchupMs: 15 * MIN });
  const cursor = at('2026-01-01T00:00Z');

  it.each([
    ['nothing is due before the first planned time', '2026-01-01T00:09Z', []],
    ['the planned time fires when found in time', '2026-01-01T00:10:05Z', ['fire']],
    [
      'one fire after an outage over three planned times, the others missed',
      '2026-01-01T00:31Z',
      ['missed', 'missed', 'fire'],
    ],
  ])('%s', (_title, now, verdicts) => {
    expect(planDue(every10, { cursor, runs: 0 }, at(now)).map((v) => v.verdict)).toEqual(verdicts);
  });

  it('misses all when even the newest is later than catch-up', () => {
    const tight = { ...every10, catchupMs: 5 * MIN };
    expect(
      planDue(tight, { cursor, runs: 0 }, at('2026-01-01T00:49Z')).map((v) => v.verdict),
    ).toEqual(['missed', 'missed', 'missed', 'missed']);
  });

  it('says why a fire was missed', () => {
    const due = planDue(every10, { cursor, runs: 0 }, at('2026-01-01T00:31Z'));
    expect(due.map((v) => (v.verdict === 'missed' ? v.reason : 'fire'))).toEqual([
      'found 21m late',
      'superseded by a later planned time',
      'fire',
    ]);
  });

  it('works through a long outage in batches, never firing an old time', () => {
    const everyMinute = spec({ cron: '* * * * *' });
    const due = planDue(everyMinute, { cursor, runs: 0 }, at('2026-01-03T00:00Z'));
    expect(due).toHaveLength(1_000);
    expect(due.every((v) => v.verdict === 'missed')).toBe(true);
  });
});

describe('jitter', () => {
  it('stays within 0..jitter and is the same every time it is asked', () => {
    const values = Array.from({ length: 500 }, (_, i) => jitterFor('n', i * MIN, 30_000));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(30_000);
    expect(new Set(values).size).toBeGreaterThan(100);
    expect(values).toEqual(Array.from({ length: 500 }, (_, i) => jitterFor('n', i * MIN, 30_000)));
  });

  it('delays the fire instant, not the planned time', () => {
    const s = spec({ cron: '0 * * * *', jitterMs: 10 * MIN });
    const planned = at('2026-01-01T01:00Z');
    const delay = jitterFor(s.name, planned, s.jitterMs);
    expect(delay).toBeGreaterThan(0);
    expect(planDue(s, { cursor: at('2026-01-01T00:30Z'), runs: 0 }, planned + delay - 1)).toEqual(
      [],
    );
    expect(planDue(s, { cursor: at('2026-01-01T00:30Z'), runs: 0 }, planned + delay)).toEqual([
      { planned, fireAt: planned + delay, verdict: 'fire' },
    ]);
  });

  it('is zero without jitter', () => {
    expect(jitterFor('n', 123, 0)).toBe(0);
  });
});

describe('overlapVerdict', () => {
  it.each([
    ['skip', false, null, 'start'],
    ['skip', true, null, 'skip'],
    ['buffer-one', true, null, 'buffer'],
    ['buffer-one', true, 5, 'skip'],
    ['buffer-one', false, null, 'start'],
    ['allow', true, null, 'start'],
  ] as const)(
    '%s with previous active=%s, buffered=%s → %s',
    (policy, active, buffered, verdict) => {
      expect(overlapVerdict(policy, active, buffered)).toBe(verdict);
    },
  );
});

describe('checkCron', () => {
  it.each(['* * *', 'not a cron', '61 * * * *', '* * * * * * *'])('refuses %j', (cron) => {
    expect(() => {
      checkCron(cron, 'UTC');
    }).toThrow(CronError);
  });

  it('accepts five fields and six with seconds', () => {
    expect(() => {
      checkCron('0 2 * * 1-5', 'Europe/Berlin');
      checkCron('*/5 * * * * *', 'UTC');
    }).not.toThrow();
  });
});
