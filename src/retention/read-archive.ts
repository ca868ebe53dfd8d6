import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { DeviceRecord } from '../campaigns/campaign.js';
import { boundedLines } from '../shared/bounded-lines.js';
import {
  ArchiveCorruptError,
  decodeDeviceLine,
  isHeader,
  isTrailer,
  type ArchiveHeader,
  type ArchiveTrailer,
} from './archive-format.js';

/**
 * The longest line an archive may hold. Device lines are well under 4 KiB and the header holds
 * one campaign record; a longer line is damage or a crafted file (a tiny gzip can inflate to
 * gigabytes), refused while streaming so memory stays bounded.
 */
export const MAX_ARCHIVE_LINE_BYTES = 4 << 20;

/**
 * The raw lines of an archive file, gunzipped, at most `MAX_ARCHIVE_LINE_BYTES` each. Split on
 * bytes (UTF-8 never has 0x0a inside a character), so at most one partial line is held. A gzip,
 * file or size failure becomes `ArchiveCorruptError` naming the file; ENOENT passes through.
 */
async function* archiveLines(file: string): AsyncIterable<string> {
  const gunzip = createGunzip();
  const source = createReadStream(file);
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  try {
    const lines = boundedLines(gunzip as AsyncIterable<Buffer>, MAX_ARCHIVE_LINE_BYTES, (line) =>
      tooLong(file, line),
    );
    for await (const { text } of lines) yield text;
  } catch (error) {
    if (error instanceof ArchiveCorruptError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw error;
    throw new ArchiveCorruptError(file, gzipProblem(error));
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

function tooLong(file: string, line: number): ArchiveCorruptError {
  return new ArchiveCorruptError(
    file,
    `line ${String(line)} is longer than ${String(MAX_ARCHIVE_LINE_BYTES)} bytes (not written by fleetscan)`,
  );
}

/** zlib's wording made a sentence: `unexpected end of file` is a cut archive. */
function gzipProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) {
    return 'the gzip stream is cut short (truncated file)';
  }
  if (code === 'Z_DATA_ERROR') return `not a valid gzip stream (${message})`;
  return message;
}

function parseLine(line: string, file: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new ArchiveCorruptError(file, `unreadable line ${line.slice(0, 80)}`);
  }
}

/** Reads only the first line: the campaign as it was when archived. */
export async function readArchiveHeader(file: string): Promise<ArchiveHeader> {
  for await (const line of archiveLines(file)) {
    const header = parseLine(line, file);
    if (!isHeader(header)) throw new ArchiveCorruptError(file, 'no archive header');
    return header;
  }
  throw new ArchiveCorruptError(file, 'empty file');
}

/**
 * Streams the devices of an archive in the order they were written, and checks the trailer's
 * count and hash at the end: a cut or altered archive throws instead of ending quietly short.
 */
export async function* readArchiveDevices(
  file: string,
  onTrailer?: (trailer: ArchiveTrailer, header: ArchiveHeader) => void,
): AsyncIterable<DeviceRecord> {
  const hash = createHash('sha256');
  let header: ArchiveHeader | undefined;
  let trailer: ArchiveTrailer | undefined;
  let devices = 0;
  for await (const line of archiveLines(file)) {
    if (trailer) throw new ArchiveCorruptError(file, 'lines after the trailer');
    if (!header) {
      const first = parseLine(line, file);
      if (!isHeader(first)) throw new ArchiveCorruptError(file, 'no archive header');
      header = first;
      continue;
    }
    if (line.startsWith('{"fleetscanArchiveEnd"')) {
      const last = parseLine(line, file);
      if (isTrailer(last)) {
        trailer = last;
        continue;
      }
    }
    hash.update(`${line}\n`);
    devices += 1;
    yield decodeDeviceLine(line, file);
  }
  if (!header) throw new ArchiveCorruptError(file, 'empty file');
  if (!trailer) throw new ArchiveCorruptError(file, `cut short after ${String(devices)} devices`);
  const sha256 = hash.digest('hex');
  if (trailer.devices !== devices || trailer.sha256 !== sha256) {
    throw new ArchiveCorruptError(
      file,
      `trailer says ${String(trailer.devices)} devices / ${trailer.sha256}, found ${String(devices)} / ${sha256}`,
    );
  }
  onTrailer?.(trailer, header);
}

export interface VerifiedArchive {
  header: ArchiveHeader;
  devices: number;
  sha256: string;
}

/** Reads the whole archive back and returns what it holds; throws when it is incomplete. */
export async function verifyArchive(file: string): Promise<VerifiedArchive> {
  let result: VerifiedArchive | undefined;
  const devices = readArchiveDevices(file, (trailer, header) => {
    result = { header, devices: trailer.devices, sha256: trailer.sha256 };
  })[Symbol.asyncIterator]();
  while ((await devices.next()).done !== true);
  if (!result) throw new ArchiveCorruptError(file, 'no trailer');
  return result;
}
