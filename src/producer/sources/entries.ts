import type { InvalidReason } from './errors.js';
import { pickHostnameColumn, pickIdColumn } from './device-file-format.js';

/**
 * One data entry of a device file before validation: the candidate id text and its line, or,
 * when the entry could not even yield a candidate, the reason and the text to report.
 */
export interface RawEntry {
  line: number;
  text: string;
  reason?: InvalidReason;
  /** The device's host name, when the file has a column or key for it. */
  hostname?: string | undefined;
}

/** Where the entries come from, for error messages, and which column/key was asked for. */
export interface EntryContext {
  file: string;
  column?: string | undefined;
}

/** Raw bytes of a file, already without a UTF-8 BOM. */
export type ByteSource = AsyncIterable<Buffer>;

export type EntryReader = (bytes: ByteSource, context: EntryContext) => AsyncIterable<RawEntry>;

/**
 * The entry for one JSON value (an NDJSON line or an array element): a string is the candidate,
 * an object gives the value of its id key, anything else is reported.
 */
export function entryFromJsonText(line: number, json: string, column?: string): RawEntry {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { line, text: json, reason: 'not-json' };
  }
  if (typeof value === 'string') return { line, text: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, text: json, reason: 'not-a-string' };
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const key = keys[pickIdColumn(keys, column)];
  if (key === undefined) return { line, text: json, reason: 'no-id-field' };
  const id = record[key];
  const name = record[keys[pickHostnameColumn(keys)] ?? ''];
  return typeof id === 'string'
    ? { line, text: id, ...(typeof name === 'string' ? { hostname: name } : {}) }
    : { line, text: JSON.stringify(id), reason: 'not-a-string' };
}
