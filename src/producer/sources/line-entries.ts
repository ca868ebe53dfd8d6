import { StringDecoder } from 'node:string_decoder';
import { DeviceFileError } from './errors.js';
import { pickIdColumn } from './device-file-format.js';
import { renderValue, unquote } from './device-id.js';
import { entryFromJsonText, type ByteSource, type EntryContext, type RawEntry } from './entries.js';

/** A line longer than this is not a device id in any format: refuse rather than buffer it. */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Splits bytes into numbered lines (LF or CRLF), holding at most one partial line in memory.
 * Blank lines are counted for numbering but not yielded.
 */
export async function* numberedLines(
  bytes: ByteSource,
  file: string,
): AsyncIterable<{ line: number; text: string }> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let line = 0;
  for await (const chunk of bytes) {
    const parts = (partial + decoder.write(chunk)).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      line += 1;
      if (part.trim() !== '') yield { line, text: part };
    }
    if (partial.length > MAX_LINE_CHARS) {
      const problem = `line longer than ${MAX_LINE_CHARS} characters`;
      throw new DeviceFileError({ code: 'malformed', file, line: line + 1, problem });
    }
  }
  partial += decoder.end();
  if (partial.trim() !== '') yield { line: line + 1, text: partial };
}

/**
 * Plain text, one id per line. A first line naming the id column (`machineId`, … or `column`)
 * is a header and skipped; with `column` set, the header must be there.
 */
export async function* textEntries(
  bytes: ByteSource,
  context: EntryContext,
): AsyncIterable<RawEntry> {
  let first = true;
  for await (const { line, text } of numberedLines(bytes, context.file)) {
    if (first) {
      first = false;
      if (pickIdColumn([unquote(text)], context.column) >= 0) continue;
      if (context.column !== undefined) throw unknownColumn(context, line, [text]);
    }
    yield { line, text };
  }
}

/** NDJSON: one JSON string, or object with an id key, per line. */
export async function* ndjsonEntries(
  bytes: ByteSource,
  context: EntryContext,
): AsyncIterable<RawEntry> {
  for await (const { line, text } of numberedLines(bytes, context.file)) {
    yield entryFromJsonText(line, text, context.column);
  }
}

/** The error for a header without the id column; it lists what the header did have. */
export function unknownColumn(context: EntryContext, line: number, header: readonly string[]) {
  const asked =
    context.column === undefined
      ? 'no column named machineId, id, deviceId or "Device ID"'
      : `no column named ${JSON.stringify(context.column)}`;
  const found = header.map((name) => JSON.stringify(renderValue(unquote(name)))).join(', ');
  return new DeviceFileError({
    code: 'unknown-column',
    file: context.file,
    line,
    problem: `${asked} in the header (found ${found}); name it with --column`,
  });
}
