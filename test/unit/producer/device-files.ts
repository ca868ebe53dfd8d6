import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import {
  readDeviceFile,
  type DeviceFileReport,
  type ReadDeviceFileOptions,
} from '../../../src/producer/sources/read-device-file.js';

/** Ids that are valid machine ids, distinct, and easy to tell apart in a failure message. */
export function machineId(n: number): string {
  return n.toString(16).padStart(40, '0');
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetscan-producer-test-'));
  dirs.push(dir);
  return dir;
}

/** Writes `content` to a temporary file named `name` and returns its path. */
export async function deviceFile(name: string, content: string | Buffer): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}

export async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir);
}

/** Reads a device file to the end: every chunk, and the finished report. */
export async function readAll(
  input: string | Readable,
  options: ReadDeviceFileOptions = {},
): Promise<{ chunks: string[][]; ids: string[]; report: DeviceFileReport }> {
  const source = await readDeviceFile(input, options);
  const chunks: string[][] = [];
  for await (const chunk of source.chunks) chunks.push(chunk);
  return { chunks, ids: chunks.flat(), report: source.report };
}

/** A stream like stdin: the text arrives in small pieces, split anywhere. */
export function streamOf(text: string | Buffer, pieceSize = 7): Readable {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) pieces.push(bytes.subarray(i, i + pieceSize));
  return Readable.from(pieces, { objectMode: false });
}
