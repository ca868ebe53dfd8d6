import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSchedules } from '../../../src/schedules/diff-schedules.js';
import { readSchedulesFile } from '../../../src/schedules/read-schedules-file.js';
import { buildScheduleSpec, ScheduleSpecError } from '../../../src/schedules/schedule-spec.js';
import { packageRoot } from '../../../src/shared/package-root.js';

const base = { name: 'n', cron: '0 2 * * *', comment: 'c', tags: ['Servers'] };

describe('buildScheduleSpec', () => {
  it('fills the defaults the issue names', () => {
    expect(buildScheduleSpec(base, 'test', '/work')).toMatchObject({
      tz: 'UTC',
      scanType: 'Quick',
      tenant: 'default',
      priority: 'background',
      overlap: 'skip',
      catchupMs: 3_600_000,
      jitterMs: 0,
      window: null,
      startAt: null,
      endAt: null,
      maxRuns: null,
    });
  });

  it('resolves a relative device file against the base folder', () => {
    const spec = buildScheduleSpec(
      { ...base, tags: [], devices: 'lists/ids.csv' },
      'test',
      '/srv/fleet',
    );
    expect(spec.targets.devices).toBe('/srv/fleet/lists/ids.csv');
  });

  it.each([
    [{ ...base, cron: '0 25 * * *' }, /cron: Invalid cron expression/],
    [{ ...base, tz: 'Europe/Atlantis' }, /tz: unknown time zone/],
    [{ ...base, tags: [] }, /exactly one of/],
    [{ ...base, all: true }, /exactly one of/],
    [{ ...base, window: '9-17' }, /window: Expected a window/],
    [{ ...base, overlap: 'queue' }, /overlap/],
    [{ ...base, catchup: 'soon' }, /catchup: Expected a duration/],
    [{ ...base, start: '2027-02-01', end: '2027-01-01' }, /end must be after start/],
    [{ ...base, name: 'has space' }, /name: Expected 1-64 letters/],
    [{ ...base, maxRuns: 0 }, /maxRuns/],
    [{ ...base, colour: 'red' }, /colour/],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => buildScheduleSpec(input, 'where', '/')).toThrow(ScheduleSpecError);
    expect(() => buildScheduleSpec(input, 'where', '/')).toThrow(message);
  });
});

describe('diffSchedules', () => {
  const a = buildScheduleSpec({ ...base, name: 'a' }, 't', '/');
  const b = buildScheduleSpec({ ...base, name: 'b' }, 't', '/');
  const b2 = buildScheduleSpec({ ...base, name: 'b', cron: '0 3 * * *' }, 't', '/');

  it('creates, updates field by field and removes', () => {
    expect(
      diffSchedules([a, b], [b2, buildScheduleSpec({ ...base, name: 'c' }, 't', '/')]),
    ).toEqual([
      {
        name: 'b',
        action: 'update',
        fields: [{ field: 'cron', before: '"0 2 * * *"', after: '"0 3 * * *"' }],
      },
      { name: 'c', action: 'create', fields: [] },
      { name: 'a', action: 'remove', fields: [] },
    ]);
  });

  it('is empty when the stored schedules already match', () => {
    expect(diffSchedules([a, b], [b, a])).toEqual([]);
  });
});

describe('readSchedulesFile', () => {
  it('reads the example config/schedules.yaml', async () => {
    const specs = await readSchedulesFile(join(packageRoot(), 'config', 'schedules.yaml'));
    expect(specs.map((s) => s.name)).toEqual(['nightly-servers', 'weekly-full', 'finance-q1']);
    expect(specs[0]?.window).toEqual({ start: '01:00', end: '06:00', tz: 'Europe/Berlin' });
  });

  it('lists every bad entry and a repeated name at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscan-spec-'));
    try {
      const file = join(dir, 's.yaml');
      writeFileSync(
        file,
        [
          'schedules:',
          '  - { name: ok, cron: "0 1 * * *", comment: c, all: true }',
          '  - { name: bad, cron: "nope", comment: c, all: true }',
          '  - { name: ok, cron: "0 2 * * *", comment: c, all: true }',
        ].join('\n'),
      );
      const error = await readSchedulesFile(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScheduleSpecError);
      expect(String(error)).toMatch(/schedules\[1\] \(bad\): cron/);
      expect(String(error)).toMatch(/"ok" is defined twice/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
