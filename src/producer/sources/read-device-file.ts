import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { csvEntries } from './csv-entries.js';
import { detectFormat, type DeviceFileFormat } from './device-file-format.js';
import { renderValue, toMachineId } from './device-id.js';
import {
  openInput,
  spoolToFile,
  unreadable,
  type PeekedInput,
  type Spool,
} from './device-input.js';
import type { EntryReader, RawEntry } from './entries.js';
import { DeviceFileError, type InvalidEntry } from './errors.js';
import { jsonArrayEntries } from './json-array-entries.js';
import { ndjsonEntries, textEntries } from './line-entries.js';

const READERS: Record<DeviceFileFormat, EntryReader> = {
  csv: csvEntries,
  text: textEntries,
  json: jsonArrayEntries,
  ndjson: ndjsonEntries,
};

export interface ReadDeviceFileOptions {
  /** The id column (CSV header) or key (JSON objects), instead of the usual aliases. */
  column?: string | undefined;
  /** Refuse the whole file when any entry is invalid, before yielding anything. */
  strict?: boolean | undefined;
  /** Ids per yielded chunk (default 1000). */
  chunkSize?: number | undefined;
  /** How many invalid entries the report and the strict error list (default 100); all are counted. */
  invalidListLimit?: number | undefined;
  /** Overrides detection (content first, extension as a hint). */
  format?: DeviceFileFormat | undefined;
  /** Name shown in messages when `input` is a stream (default `-`). */
  name?: string | undefined;
  /** Where stdin is spooled in strict mode (default the OS temp dir); removed afterwards. */
  tmpDir?: string | undefined;
}

/**
 * Counts of one read. Invariant: `lines = valid + invalidCount`. `valid` counts every valid entry,
 * repeats included; `duplicates` counts the repeats collapsed before yielding (within one chunk).
 * Repeats in different chunks are yielded again, for the store to refuse (HSETNX), so the true
 * number of duplicates is `valid - (ids the store newly accepted)`.
 */
export interface DeviceFileReport {
  file: string;
  format: DeviceFileFormat;
  /** Data entries read: non-blank lines, CSV records or array elements, headers excluded. */
  lines: number;
  valid: number;
  /** The first `invalidListLimit` invalid entries, in file order. */
  invalid: InvalidEntry[];
  invalidCount: number;
  duplicates: number;
}

export interface DeviceFileSource {
  /** Complete once `chunks` has been read to the end. */
  report: DeviceFileReport;
  /** Normalised ids in file order, `chunkSize` at a time; readable once. */
  chunks: AsyncIterable<string[]>;
  /** Releases the file (and stdin spool) when `chunks` will not be read to the end. */
  close(): Promise<void>;
  /**
   * Host names (id → name) of the ids yielded since the last call, from a `computerDnsName`,
   * `Device Name`, … column; drained by each call, so memory stays bounded by a chunk.
   */
  takeHostnames(): Map<string, string>;
}

/**
 * Opens a device file (a path, `-` for stdin, or any Readable) and detects its format. Streams:
 * memory stays bounded by one chunk and one line, whatever the file size. With `strict`, the
 * whole file is validated first (stdin is spooled to a temporary file for that) and any invalid
 * entry rejects with `DeviceFileError` code `invalid-lines`, so nothing is half-enqueued.
 */
export async function readDeviceFile(
  input: string | Readable,
  options: ReadDeviceFileOptions = {},
): Promise<DeviceFileSource> {
  const limit = options.invalidListLimit ?? 100;
  const chunkSize = options.chunkSize ?? 1000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be ≥ 1');
  const file = typeof input === 'string' ? input : (options.name ?? '-');
  const stream = input === '-' ? process.stdin : typeof input === 'string' ? undefined : input;
  let spool: Spool | undefined;
  if (stream !== undefined && options.strict === true) {
    spool = await spoolToFile(stream, options.tmpDir ?? tmpdir(), file);
  }
  const path = spool?.path ?? (typeof input === 'string' && input !== '-' ? input : undefined);
  const open = () =>
    openInput(path === undefined ? { stream: stream ?? process.stdin } : { path }, file);

  let opened: PeekedInput;
  let report: DeviceFileReport;
  try {
    opened = await open();
    refuseBinary(opened.head, file);
    const format = options.format ?? detectFormat(opened.head, file);
    const context = { file, column: options.column };
    report = emptyReport(file, format);
    if (options.strict === true) {
      for await (const entry of READERS[format](opened.bytes, context)) tally(entry, report, limit);
      if (report.invalidCount > 0) throw invalidLines(report);
      opened = await open();
      report = emptyReport(file, format);
    }
  } catch (error) {
    await spool?.remove();
    throw error instanceof DeviceFileError ? error : unreadable(file, error);
  }
  const close = async () => {
    await opened.close();
    await spool?.remove();
  };

  let hostnames = new Map<string, string>();
  async function* chunks(): AsyncGenerator<string[]> {
    let chunk = new Set<string>();
    try {
      const entries = READERS[report.format](opened.bytes, { file, column: options.column });
      for await (const entry of entries) {
        const id = tally(entry, report, limit);
        // Strict promised a clean file; one that changed since it was checked is refused.
        if (id === undefined && options.strict === true) throw invalidLines(report);
        if (id === undefined) continue;
        const name = entry.hostname?.trim();
        if (name) hostnames.set(id, name.slice(0, 255));
        if (chunk.has(id)) report.duplicates += 1;
        chunk.add(id);
        if (chunk.size >= chunkSize) {
          yield [...chunk];
          chunk = new Set();
        }
      }
      if (chunk.size > 0) yield [...chunk];
    } catch (error) {
      throw error instanceof DeviceFileError ? error : unreadable(file, error);
    } finally {
      await close();
    }
  }
  const takeHostnames = () => {
    const taken = hostnames;
    hostnames = new Map();
    return taken;
  };
  return { report, chunks: chunks(), close, takeHostnames };
}

/**
 * A NUL in the first bytes means a binary file (or UTF-16, as some Excel exports are): said
 * plainly, instead of a CSV parser's complaint about quotes or a missing id column.
 */
function refuseBinary(head: string, file: string): void {
  const at = head.indexOf('\u0000');
  if (at < 0) return;
  throw new DeviceFileError({
    code: 'not-text',
    file,
    problem:
      `not a UTF-8 text file (binary content at byte ${String(Buffer.byteLength(head.slice(0, at)))}). ` +
      'Give a CSV, text, JSON or NDJSON list of machine ids; save UTF-16 exports as UTF-8.',
  });
}

function emptyReport(file: string, format: DeviceFileFormat): DeviceFileReport {
  return { file, format, lines: 0, valid: 0, invalid: [], invalidCount: 0, duplicates: 0 };
}

/** Counts one entry into `report`; the normalised id when it is valid. */
function tally(entry: RawEntry, report: DeviceFileReport, limit: number): string | undefined {
  report.lines += 1;
  const id = entry.reason === undefined ? toMachineId(entry.text) : undefined;
  if (id !== undefined) {
    report.valid += 1;
    return id;
  }
  report.invalidCount += 1;
  if (report.invalid.length < limit) {
    const reason = entry.reason ?? 'not-a-machine-id';
    report.invalid.push({ line: entry.line, value: renderValue(entry.text), reason });
  }
  return undefined;
}

/** The strict refusal: the first few bad lines in the message, the bounded list on the error. */
function invalidLines(report: DeviceFileReport): DeviceFileError {
  const shown = report.invalid
    .slice(0, 5)
    .map((e) => `line ${e.line} ${JSON.stringify(e.value)} (${e.reason})`);
  const more =
    report.invalidCount > shown.length ? `; ${report.invalidCount - shown.length} more` : '';
  return new DeviceFileError({
    code: 'invalid-lines',
    file: report.file,
    problem: `${report.invalidCount} invalid of ${report.lines} entries, refused (--strict): ${shown.join('; ')}${more}`,
    invalid: report.invalid,
    invalidCount: report.invalidCount,
  });
}
