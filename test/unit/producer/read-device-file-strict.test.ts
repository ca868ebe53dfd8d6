import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceFileError } from '../../../src/producer/sources/errors.js';
import { readDeviceFile } from '../../../src/producer/sources/read-device-file.js';
import { deviceFile, entriesOf, machineId, readAll, streamOf, tempDir } from './device-files.js';

const A = machineId(1);
const B = machineId(2);

describe('readDeviceFile strict mode', () => {
  it('refuses a file with invalid lines before yielding anything', async () => {
    const ids = Array.from({ length: 5000 }, (_, i) => machineId(i + 1));
    ids.splice(4000, 0, 'bad-line');
    const path = await deviceFile('ids.txt', ids.join('\n'));
    const error = await readDeviceFile(path, { strict: true, chunkSize: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceFileError);
    expect(error).toMatchObject({ code: 'invalid-lines', invalidCount: 1 });
    expect((error as DeviceFileError).invalid).toEqual([
      { line: 4001, value: 'bad-line', reason: 'not-a-machine-id' },
    ]);
  });

  it('names the first bad lines and the total in the message', async () => {
    const text = [A, 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'].join('\n');
    const promise = readDeviceFile(await deviceFile('ids.txt', text), { strict: true });
    await expect(promise).rejects.toThrow(
      /7 invalid of 8 entries.*line 2 "x1".*line 6 "x5".*2 more/,
    );
  });

  it('yields every id of a clean file, counted once', async () => {
    const path = await deviceFile('ids.txt', `${A}\n${B}\n`);
    const { ids, report } = await readAll(path, { strict: true });
    expect(ids).toEqual([A, B]);
    expect(report).toMatchObject({ lines: 2, valid: 2, invalidCount: 0 });
  });

  it('refuses a malformed file before yielding anything', async () => {
    const path = await deviceFile('d.json', `["${A}", "${B}"`);
    await expect(readDeviceFile(path, { strict: true })).rejects.toMatchObject({
      code: 'malformed',
    });
  });
});

describe('readDeviceFile from a stream (stdin)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Replaces process.stdin for one test. */
  function fakeStdin(text: string): void {
    const stdin = streamOf(text) as unknown as typeof process.stdin;
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(stdin);
  }

  it('reads "-" from stdin', async () => {
    fakeStdin(`${A}\n${B}\n`);
    const { ids, report } = await readAll('-');
    expect(ids).toEqual([A, B]);
    expect(report.file).toBe('-');
  });

  it('validates stdin before yielding anything in strict mode', async () => {
    fakeStdin(`${A}\nnope\n`);
    const dir = await tempDir();
    const reading = readDeviceFile('-', { strict: true, tmpDir: dir });
    await expect(reading).rejects.toThrow(/Device file "-": 1 invalid of 2 entries/);
    expect(await entriesOf(dir)).toEqual([]);
  });

  it('reads ids from a stream split at arbitrary points', async () => {
    const { ids, report } = await readAll(
      streamOf(`\ufeffmachineId,host\r\n${A},h1\r\n${B},h2\r\n`, 3),
    );
    expect(ids).toEqual([A, B]);
    expect(report).toMatchObject({ file: '-', format: 'csv' });
  });

  it('names a stream in messages as given', async () => {
    const source = readAll(streamOf('host,os\nh1,x\n'), { name: 'stdin' });
    await expect(source).rejects.toThrow(/Device file "stdin", line 1/);
  });

  it('spools a stream to a temporary file in strict mode and removes it afterwards', async () => {
    const dir = await tempDir();
    const { ids } = await readAll(streamOf(`${A}\n${B}\n`), { strict: true, tmpDir: dir });
    expect(ids).toEqual([A, B]);
    expect(await entriesOf(dir)).toEqual([]);
  });

  it('removes the spool when strict mode refuses the stream', async () => {
    const dir = await tempDir();
    const reading = readDeviceFile(streamOf(`${A}\nbad\n`), { strict: true, tmpDir: dir });
    await expect(reading).rejects.toMatchObject({ code: 'invalid-lines' });
    expect(await entriesOf(dir)).toEqual([]);
  });

  it('removes the spool when the caller closes without reading', async () => {
    const dir = await tempDir();
    const source = await readDeviceFile(streamOf(`${A}\n`), { strict: true, tmpDir: dir });
    expect(await entriesOf(dir)).toHaveLength(1);
    await source.close();
    expect(await entriesOf(dir)).toEqual([]);
  });
});

describe('readDeviceFile chunks and duplicates', () => {
  it('yields ids in chunks of chunkSize, in file order', async () => {
    const all = Array.from({ length: 25 }, (_, i) => machineId(i + 1));
    const { chunks } = await readAll(await deviceFile('ids.txt', all.join('\n')), {
      chunkSize: 10,
    });
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual(all);
  });

  it('collapses duplicates within a chunk and counts them, whatever their case', async () => {
    const text = [A, B, A.toUpperCase(), ` ${B} `, A].join('\n');
    const { ids, report } = await readAll(await deviceFile('ids.txt', text));
    expect(ids).toEqual([A, B]);
    expect(report).toMatchObject({ lines: 5, valid: 5, duplicates: 3 });
  });

  it('leaves repeats in different chunks for the store to refuse', async () => {
    const text = [A, B, A].join('\n');
    const { chunks, report } = await readAll(await deviceFile('ids.txt', text), { chunkSize: 2 });
    expect(chunks).toEqual([[A, B], [A]]);
    expect(report).toMatchObject({ valid: 3, duplicates: 0 });
  });

  it('rejects a chunk size below one', async () => {
    const path = await deviceFile('ids.txt', A);
    await expect(readDeviceFile(path, { chunkSize: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('readDeviceFile cleanup and failures', () => {
  it('removes the stdin spool when the caller stops reading early', async () => {
    const dir = await tempDir();
    const text = Array.from({ length: 50 }, (_, i) => machineId(i + 1)).join('\n');
    const source = await readDeviceFile(streamOf(text), {
      strict: true,
      tmpDir: dir,
      chunkSize: 5,
    });
    for await (const chunk of source.chunks) {
      expect(chunk).toHaveLength(5);
      break;
    }
    expect(await entriesOf(dir)).toEqual([]);
  });

  it('turns a failing stream into an unreadable-file error', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from(`${A}\n`.repeat(2000));
      await Promise.resolve();
      throw Object.assign(new Error('read failed'), { code: 'EIO' });
    }
    const source = await readDeviceFile(Readable.from(failing(), { objectMode: false }), {
      name: 'pipe',
    });
    const reading = (async () => {
      for await (const chunk of source.chunks) expect(chunk.length).toBeGreaterThan(0);
    })();
    await expect(reading).rejects.toMatchObject({ code: 'unreadable', file: 'pipe' });
    await expect(reading).rejects.toThrow(/EIO/);
  });

  it('refuses a directory as unreadable', async () => {
    const dir = await tempDir();
    await expect(readDeviceFile(dir)).rejects.toMatchObject({ code: 'unreadable', file: dir });
  });
});

describe('readDeviceFile stream chunk types', () => {
  it('accepts a stream of strings as well as bytes', async () => {
    const { ids } = await readAll(Readable.from([`${A}\n`, `${B}\n`]));
    expect(ids).toEqual([A, B]);
  });
});
