import { pipeline, Readable } from 'node:stream';
import { CsvError, parse, type Info } from 'csv-parse';
import { DeviceFileError } from './errors.js';
import { detectDelimiter, pickHostnameColumn, pickIdColumn } from './device-file-format.js';
import { toMachineId } from './device-id.js';
import { unknownColumn, MAX_LINE_CHARS } from './line-entries.js';
import type { ByteSource, EntryContext, RawEntry } from './entries.js';

interface ParsedRecord {
  record: string[];
  info: Info;
}

/** The CSV problem in the reader's words, not the parser's ("Invalid Closing Quote: …"). */
function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed (a " without its closing ")';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field goes on after its closing quote (write "" for a quote inside quotes)';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record longer than ${String(MAX_LINE_CHARS)} characters (is this a device list?)`;
    default:
      return `not readable as CSV (${error.code})`;
  }
}

/**
 * CSV through csv-parse, streamed. A first record whose first field is a machine id means there is
 * no header (ids in the first column); otherwise the first record is the header and must name the
 * id column (an alias or `column`). The delimiter (`,` `;` or tab) is taken from the first line.
 */
export async function* csvEntries(
  bytes: ByteSource,
  context: EntryContext,
): AsyncIterable<RawEntry> {
  const { head, rest } = await firstChunk(bytes);
  const parser = parse({
    delimiter: detectDelimiter(head.toString('utf8')) ?? ',',
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    // Stray quotes inside an unquoted id are reported as an invalid id, not a broken file.
    relax_quotes: true,
    max_record_size: MAX_LINE_CHARS,
    info: true,
  });
  // Errors of the source reach the parser through pipeline and surface in the loop below.
  pipeline(Readable.from(rest(), { objectMode: false }), parser, () => undefined);
  let column = -1;
  let hostnameColumn = -1;
  try {
    for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
      const { record, info } = parsed;
      if (column < 0) {
        const header = headerColumn(record, info.lines, context);
        column = Math.max(header, 0);
        if (header >= 0) {
          hostnameColumn = pickHostnameColumn(record);
          continue;
        }
      }
      const hostname = hostnameColumn >= 0 ? record[hostnameColumn] : undefined;
      yield { line: info.lines, text: record[column] ?? '', hostname };
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = typeof error['lines'] === 'number' ? error['lines'] : undefined;
    throw new DeviceFileError(
      { code: 'malformed', file: context.file, line, problem: describeCsvError(error) },
      { cause: error },
    );
  } finally {
    parser.destroy();
  }
}

/**
 * For the first record: the id column's index when it is a header, -1 when it is data.
 * Throws when it is a header without the id column.
 */
function headerColumn(record: string[], line: number, context: EntryContext): number {
  const first = record[0] ?? '';
  if (context.column === undefined && toMachineId(first) !== undefined) return -1;
  const index = pickIdColumn(record, context.column);
  if (index < 0) throw unknownColumn(context, line, record);
  return index;
}

/** Reads the first chunk (to pick the delimiter) and gives back a source that replays it. */
async function firstChunk(bytes: ByteSource) {
  const iterator = bytes[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done === true ? Buffer.alloc(0) : first.value;
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    yield* { [Symbol.asyncIterator]: () => iterator };
  }
  return { head, rest };
}
