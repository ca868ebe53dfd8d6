import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeviceFileError } from './errors.js';
import type { ByteSource } from './entries.js';

/** Enough of the file to tell its format (and CSV delimiter) from. */
const HEAD_BYTES = 4096;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The first bytes of an input (BOM removed) and a source that replays them, then the rest. */
export interface PeekedInput {
  head: string;
  bytes: ByteSource;
  /** Closes the underlying file or stream when `bytes` will not be read to the end. */
  close(): Promise<void>;
}

/** Opens `path` (or takes `stream`), reads its head; any failure is `unreadable`, naming `name`. */
export async function openInput(
  target: { path: string } | { stream: Readable },
  name: string,
): Promise<PeekedInput> {
  try {
    const source: AsyncIterable<unknown> =
      'path' in target ? (await open(target.path, 'r')).createReadStream() : target.stream;
    return await peek(source);
  } catch (error) {
    throw unreadable(name, error);
  }
}

/** The error for a file that cannot be opened or read, with the system's reason. */
export function unreadable(file: string, cause: unknown): DeviceFileError {
  const code = (cause as { code?: unknown }).code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const problem = `cannot read it (${typeof code === 'string' ? code : reason})`;
  return new DeviceFileError({ code: 'unreadable', file, problem }, { cause });
}

/** Streams may hand out strings or plain Uint8Arrays (tests, object-mode streams): make bytes. */
function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string' || chunk instanceof Uint8Array) return Buffer.from(chunk);
  throw new TypeError(`expected bytes or text from the stream, got ${typeof chunk}`);
}

async function peek(source: AsyncIterable<unknown>): Promise<PeekedInput> {
  const iterator = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  while (size < HEAD_BYTES + BOM.length) {
    const next = await iterator.next();
    if (next.done === true) break;
    const chunk = toBuffer(next.value);
    parts.push(chunk);
    size += chunk.length;
  }
  let head = Buffer.concat(parts);
  if (head.subarray(0, BOM.length).equals(BOM)) head = head.subarray(BOM.length);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    // for-await over the same iterator: an early exit calls its return(), closing the file.
    for await (const chunk of { [Symbol.asyncIterator]: () => iterator }) yield toBuffer(chunk);
  }
  const close = async () => {
    await iterator.return?.();
  };
  return { head: head.toString('utf8'), bytes: replay(), close };
}

/** A copy of a one-shot stream on disk, so it can be read twice (validate, then enqueue). */
export interface Spool {
  path: string;
  remove(): Promise<void>;
}

/** Copies `stream` (stdin) into a private temporary directory under `tmpDir`. */
export async function spoolToFile(stream: Readable, tmpDir: string, name: string): Promise<Spool> {
  const dir = await mkdtemp(join(tmpDir, 'fleetscan-devices-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'devices');
  try {
    await pipeline(stream, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await remove();
    throw unreadable(name, error);
  }
  return { path, remove };
}
