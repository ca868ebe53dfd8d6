import { isMachineId } from '../../defender/machine-id.js';

/*
 * Reading device files uses the pure id check of `defender/machine-id.ts` (no client import).
 * Files are more forgiving than the client: spaces and one pair of quotes around an id are
 * expected there, so they are removed before the check.
 */

const SURROUNDING_QUOTES = /^(["'])(.*)\1$/s;

/**
 * The normalised machine id in `raw` (trimmed, one pair of surrounding quotes removed, lowercased),
 * or `undefined` when it is not one.
 */
export function toMachineId(raw: string): string | undefined {
  // Only ASCII A-F are folded: toLowerCase would also turn Unicode lookalikes into letters.
  const value = unquote(raw).replace(/[A-F]/g, (letter) => letter.toLowerCase());
  return isMachineId(value) ? value : undefined;
}

/** `raw` trimmed, without one pair of matching surrounding quotes (`"…"` or `'…'`). */
export function unquote(raw: string): string {
  const value = raw.trim();
  const quoted = SURROUNDING_QUOTES.exec(value);
  return quoted ? (quoted[2] ?? '').trim() : value;
}

// Control and format characters (C0, C1, bidi overrides, zero-width) could rewrite a terminal or
// a log line, so they are shown as \u{…} escapes, never echoed.
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
const MAX_RENDERED = 60;

/** A short rendering of an untrusted value that is safe to print in a report or a log. */
export function renderValue(raw: string): string {
  const cut = raw.length > MAX_RENDERED ? `${raw.slice(0, MAX_RENDERED)}…` : raw;
  return cut.replace(UNSAFE_CHARACTERS, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}
