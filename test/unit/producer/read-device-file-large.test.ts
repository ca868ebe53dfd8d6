import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { DeviceFileFormat } from '../../../src/producer/sources/device-file-format.js';
import { readDeviceFile } from '../../../src/producer/sources/read-device-file.js';
import { machineId, tempDir } from './device-files.js';

const LINES = 1_000_000;
// The other formats share the streaming path; a quarter of the lines keeps the suite quick.
const FEWER_LINES = 250_000;
const CHUNK = 1000;
const LINES_PER_PIECE = 100;

const shapes: Record<
  DeviceFileFormat,
  { open: string; line: (n: number) => string; close: string }
> = {
  text: { open: '', line: (n) => `${machineId(n)}\n`, close: '' },
  csv: { open: 'Device ID,Name\n', line: (n) => `${machineId(n)},host-${n}\n`, close: '' },
  ndjson: { open: '', line: (n) => `{"machineId":"${machineId(n)}"}\n`, close: '' },
  json: { open: '[\n', line: (n) => `${n > 1 ? ',' : ''}"${machineId(n)}"\n`, close: ']\n' },
};

/**
 * A device file produced lazily, `LINES_PER_PIECE` lines at a time, that counts how many lines
 * the reader has pulled: the difference from what it has reported is what it holds in memory.
 */
function lazyFile(format: DeviceFileFormat, lines = LINES) {
  const shape = shapes[format];
  const state = { produced: 0, bytes: 0 };
  function* pieces(): Generator<Buffer> {
    yield Buffer.from(shape.open);
    for (let n = 1; n <= lines; n += LINES_PER_PIECE) {
      let text = '';
      for (let k = n; k < n + LINES_PER_PIECE; k += 1) text += shape.line(k);
      state.produced += LINES_PER_PIECE;
      const piece = Buffer.from(text);
      state.bytes += piece.length;
      yield piece;
    }
    yield Buffer.from(shape.close);
  }
  return { state, stream: Readable.from(pieces(), { objectMode: false }) };
}

describe('readDeviceFile with 1,000,000 lines', () => {
  it.each([
    ['text', LINES, 40_000_000],
    ['csv', FEWER_LINES, 13_000_000],
    ['ndjson', FEWER_LINES, 14_000_000],
    ['json', FEWER_LINES, 10_000_000],
  ] as const)(
    'streams %s (%i lines) holding no more than a few chunks of lines at a time',
    async (format, lines, minBytes) => {
      const { state, stream } = lazyFile(format, lines);
      const source = await readDeviceFile(stream, { chunkSize: CHUNK });
      let ids = 0;
      let maxAhead = 0;
      for await (const chunk of source.chunks) {
        ids += chunk.length;
        maxAhead = Math.max(maxAhead, state.produced - source.report.lines);
      }
      expect(ids).toBe(lines);
      expect(source.report).toMatchObject({ format, lines, valid: lines, invalidCount: 0 });
      // Pulled ahead of what was reported: stream buffers plus one chunk, nowhere near the file.
      expect(maxAhead).toBeLessThanOrEqual(5 * CHUNK);
      expect(state.bytes).toBeGreaterThan(minBytes);
    },
  );

  it('reads a 1,000,000-line file from disk without its size in memory', async () => {
    const path = join(await tempDir(), 'devices.txt');
    await pipeline(lazyFile('text').stream, createWriteStream(path));
    const before = process.memoryUsage();
    const source = await readDeviceFile(path);
    let ids = 0;
    let peak = 0;
    for await (const chunk of source.chunks) {
      ids += chunk.length;
      const now = process.memoryUsage();
      peak = Math.max(
        peak,
        now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers,
      );
    }
    expect(ids).toBe(LINES);
    // Loose on purpose: young-generation garbage alone can reach ~15 MB before a scavenge, while
    // a reader holding the file would need more than the file's size (about 41 MB) for it.
    const { size } = await stat(path);
    expect(peak).toBeLessThan(size * 0.75);
  });
});
