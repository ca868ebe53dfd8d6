import { describe, expect, it } from 'vitest';
import {
  isInsideWindow,
  nextClosing,
  nextOpening,
  nextWindowChange,
  parseWindow,
  parseWindowFlag,
  WindowError,
} from '../../../src/schedules/dispatch-window.js';
import { createScheduleClock } from '../../../src/schedules/schedule-clock.js';
import { windowWaitMs } from '../../../src/schedules/window-gate.js';

const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number) => new Date(ms).toISOString();

describe('parseWindow', () => {
  it('reads HH:MM-HH:MM in a zone', () => {
    expect(parseWindow('22:00-05:30', 'Europe/Berlin')).toEqual({
      start: '22:00',
      end: '05:30',
      tz: 'Europe/Berlin',
    });
  });

  it.each([
    ['22-05', 'UTC', /HH:MM-HH:MM/],
    ['24:00-05:00', 'UTC', /HH:MM-HH:MM/],
    ['10:00-10:00', 'UTC', /empty/],
    ['10:00-11:00', 'Mars/Olympus', /Unknown time zone/],
  ])('refuses %j in %s', (text, tz, message) => {
    expect(() => parseWindow(text, tz)).toThrow(WindowError);
    expect(() => parseWindow(text, tz)).toThrow(message);
  });

  it('takes a zone after the range on the scan flag, else the default zone', () => {
    expect(parseWindowFlag('01:00-05:00 America/New_York', 'UTC').tz).toBe('America/New_York');
    expect(parseWindowFlag('01:00-05:00', 'Europe/Berlin').tz).toBe('Europe/Berlin');
  });
});

describe('isInsideWindow', () => {
  const day = { start: '09:00', end: '17:00', tz: 'UTC' };
  const night = { start: '22:00', end: '05:00', tz: 'Europe/Berlin' };
  it.each([
    [day, '2026-01-05T08:59:59Z', false],
    [day, '2026-01-05T09:00:00Z', true],
    [day, '2026-01-05T16:59:59Z', true],
    [day, '2026-01-05T17:00:00Z', false],
    // Berlin is UTC+1 in January: 22:00 local = 21:00Z, 05:00 local = 04:00Z.
    [night, '2026-01-05T20:59:00Z', false],
    [night, '2026-01-05T21:00:00Z', true],
    [night, '2026-01-05T23:30:00Z', true],
    [night, '2026-01-06T03:59:00Z', true],
    [night, '2026-01-06T04:00:00Z', false],
  ])('%j at %s → %s', (window, when, inside) => {
    expect(isInsideWindow(window, at(when))).toBe(inside);
  });
});

describe('next opening and closing', () => {
  it.each([
    // [window, now, next change]
    [
      { start: '09:00', end: '17:00', tz: 'UTC' },
      '2026-01-05T08:00:00Z',
      '2026-01-05T09:00:00.000Z',
    ],
    [
      { start: '09:00', end: '17:00', tz: 'UTC' },
      '2026-01-05T10:00:00Z',
      '2026-01-05T17:00:00.000Z',
    ],
    [
      { start: '09:00', end: '17:00', tz: 'UTC' },
      '2026-01-05T18:00:00Z',
      '2026-01-06T09:00:00.000Z',
    ],
    // Across midnight.
    [
      { start: '22:00', end: '05:00', tz: 'UTC' },
      '2026-01-05T23:00:00Z',
      '2026-01-06T05:00:00.000Z',
    ],
    [
      { start: '22:00', end: '05:00', tz: 'UTC' },
      '2026-01-05T12:34:56Z',
      '2026-01-05T22:00:00.000Z',
    ],
    // Spring forward in Berlin: 02:30 does not exist on 29 March; the window opens at 03:00 CEST.
    [
      { start: '02:30', end: '06:00', tz: 'Europe/Berlin' },
      '2026-03-28T23:00:00Z',
      '2026-03-29T01:00:00.000Z',
    ],
    // Its end then comes 06:00 CEST = 04:00Z.
    [
      { start: '02:30', end: '06:00', tz: 'Europe/Berlin' },
      '2026-03-29T01:00:00Z',
      '2026-03-29T04:00:00.000Z',
    ],
    // Fall back in New York: 01:00-03:00 local spans three real hours on 1 November.
    [
      { start: '01:00', end: '03:00', tz: 'America/New_York' },
      '2026-11-01T05:30:00Z',
      '2026-11-01T08:00:00.000Z',
    ],
    // Spring forward in New York: 01:00-03:00 lasts one real hour.
    [
      { start: '01:00', end: '03:00', tz: 'America/New_York' },
      '2026-03-08T06:30:00Z',
      '2026-03-08T07:00:00.000Z',
    ],
  ])('%j from %s changes at %s', (window, now, change) => {
    expect(iso(nextWindowChange(window, at(now)))).toBe(change);
  });

  it('opens now when inside, and closes after the next opening when outside', () => {
    const w = { start: '09:00', end: '17:00', tz: 'UTC' };
    expect(nextOpening(w, at('2026-01-05T10:00Z'))).toBe(at('2026-01-05T10:00Z'));
    expect(iso(nextClosing(w, at('2026-01-05T18:00Z')))).toBe('2026-01-06T17:00:00.000Z');
  });
});

describe('windowWaitMs', () => {
  it('is 0 without a window or inside it, else the real time to the opening', () => {
    const clock = createScheduleClock({ realNow: () => at('2026-01-05T08:00Z') });
    expect(windowWaitMs(null, clock)).toBe(0);
    expect(windowWaitMs({ start: '07:00', end: '09:00', tz: 'UTC' }, clock)).toBe(0);
    expect(windowWaitMs({ start: '09:00', end: '10:00', tz: 'UTC' }, clock)).toBe(3_600_000);
  });

  it('divides the wait by the time scale of a compressed clock', () => {
    const origin = at('2026-01-05T00:00Z');
    const clock = createScheduleClock({ scale: 3600, origin, realNow: () => origin + 1_000 });
    // Scheduled time is 01:00 (1 s real × 3600); the 03:00 opening is 2 h = 2 s real away.
    expect(windowWaitMs({ start: '03:00', end: '04:00', tz: 'UTC' }, clock)).toBe(2_000);
  });
});
