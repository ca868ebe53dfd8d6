import type { DispatchWindow } from '../campaigns/campaign.js';
import { isTimeZone, localMinuteOfDay } from './local-time.js';

const MINUTE = 60_000;
const DAY_MINUTES = 1_440;
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** `--window` text that is not `HH:MM-HH:MM`, or a zone that does not exist. */
export class WindowError extends Error {
  override name = 'WindowError';
}

function minutes(text: string): number | undefined {
  const match = HH_MM.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Parses `HH:MM-HH:MM` (local time in `tz`); a start after the end crosses midnight. */
export function parseWindow(text: string, tz: string): DispatchWindow {
  const [start = '', end = '', ...rest] = text.trim().split('-');
  const from = minutes(start.trim());
  const to = minutes(end.trim());
  if (rest.length > 0 || from === undefined || to === undefined)
    throw new WindowError(`Expected a window such as 22:00-05:30 (HH:MM-HH:MM), got "${text}"`);
  if (from === to)
    throw new WindowError(`The window "${text}" is empty: its start and end are the same`);
  if (!isTimeZone(tz)) throw new WindowError(`Unknown time zone "${tz}" (use an IANA name)`);
  return { start: start.trim(), end: end.trim(), tz };
}

export function formatWindow(window: DispatchWindow): string {
  return `${window.start}-${window.end} ${window.tz}`;
}

function bounds(window: DispatchWindow): { from: number; to: number } {
  const from = minutes(window.start);
  const to = minutes(window.end);
  if (from === undefined || to === undefined)
    throw new WindowError(`Malformed stored window ${JSON.stringify(window)}`);
  return { from, to };
}

/**
 * Whether local time at `ms` is inside the window: `start ≤ t < end`, or across midnight
 * `t ≥ start or t < end`. In a repeated hour (clocks going back) the local time decides, so a
 * window covering it is open twice; a start that does not exist (clocks going forward) opens at
 * the first local time after it.
 */
export function isInsideWindow(window: DispatchWindow, ms: number): boolean {
  const { from, to } = bounds(window);
  const t = localMinuteOfDay(ms, window.tz);
  return from < to ? t >= from && t < to : t >= from || t < to;
}

/**
 * The first instant after `ms` at which the window opens or closes. Window edges and time-zone
 * transitions fall on whole minutes, so the answer is a whole minute: the search jumps to two
 * hours before the edge local arithmetic predicts (a DST jump moves it by at most that) and then
 * walks minute by minute.
 */
export function nextWindowChange(window: DispatchWindow, ms: number): number {
  const { from, to } = bounds(window);
  const inside = isInsideWindow(window, ms);
  const edge = inside ? to : from;
  const firstMinute = Math.floor(ms / MINUTE) * MINUTE + MINUTE;
  const localNow = Math.floor(localMinuteOfDay(ms, window.tz));
  const ahead = (edge - localNow + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES;
  let t = Math.max(firstMinute, firstMinute + (ahead - 1 - 120) * MINUTE);
  for (let step = 0; step < DAY_MINUTES * 2; step += 1, t += MINUTE) {
    if (isInsideWindow(window, t) !== inside) return t;
  }
  throw new WindowError(`The window ${formatWindow(window)} never changes near ${String(ms)}`);
}

/** `ms` itself when the window is open then, else when it next opens. */
export function nextOpening(window: DispatchWindow, ms: number): number {
  return isInsideWindow(window, ms) ? ms : nextWindowChange(window, ms);
}

/** When the window next closes (from inside), or closes after its next opening (from outside). */
export function nextClosing(window: DispatchWindow, ms: number): number {
  return nextWindowChange(window, nextOpening(window, ms));
}

/**
 * `scan --window`: `HH:MM-HH:MM` in `defaultTz` (this machine's zone), or `HH:MM-HH:MM ZONE`.
 */
export function parseWindowFlag(text: string, defaultTz: string): DispatchWindow {
  const [range = '', zone, ...rest] = text.trim().split(/\s+/);
  if (rest.length > 0)
    throw new WindowError(`Expected HH:MM-HH:MM or "HH:MM-HH:MM ZONE", got "${text}"`);
  return parseWindow(range, zone ?? defaultTz);
}
