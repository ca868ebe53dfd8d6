import { describe, expect, it } from 'vitest';
import { DeviceFileError } from '../../../src/producer/sources/errors.js';
import { readDeviceFile } from '../../../src/producer/sources/read-device-file.js';
import { deviceFile, machineId, readAll, streamOf } from './device-files.js';

const A = machineId(1);
const B = machineId(2);
const C = machineId(3);
const UPPER = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';

describe('readDeviceFile formats', () => {
  it('reads plain text, one id per line, trimmed and lowercased', async () => {
    const path = await deviceFile('ids.txt', `${A}\n  ${UPPER}  \n${B}\n`);
    const { ids, report } = await readAll(path);
    expect(ids).toEqual([A, UPPER.toLowerCase(), B]);
    expect(report).toMatchObject({ format: 'text', lines: 3, valid: 3, invalidCount: 0 });
  });

  it('skips a header line naming the id column in a plain text file', async () => {
    const { ids, report } = await readAll(await deviceFile('ids.txt', `MachineId\n${A}\n`));
    expect(ids).toEqual([A]);
    expect(report.lines).toBe(1);
  });

  it('handles a UTF-8 BOM, CRLF line ends and blank lines', async () => {
    const path = await deviceFile('ids.txt', `\ufeff${A}\r\n\r\n   \r\n${B}\r\n`);
    const { ids, report } = await readAll(path);
    expect(ids).toEqual([A, B]);
    expect(report).toMatchObject({ lines: 2, invalidCount: 0 });
  });

  it('removes single or double quotes around ids in plain text', async () => {
    const { ids } = await readAll(await deviceFile('ids.txt', `"${A}"\n'${B}'\n " ${C} " \n`));
    expect(ids).toEqual([A, B, C]);
  });

  it.each(['machineId', 'MACHINEID', 'id', 'deviceId', 'Device ID', 'device id'])(
    'takes the CSV column named %s',
    async (name) => {
      const path = await deviceFile('d.csv', `name,${name},os\nhost1,${A},Windows10\n`);
      const { ids } = await readAll(path);
      expect(ids).toEqual([A]);
    },
  );

  it('prefers machineId over id when a CSV header has both', async () => {
    const guid = '6f1c0a2e-0000-4000-8000-000000000000';
    const { ids } = await readAll(await deviceFile('a.csv', `id,machineId\n${guid},${A}\n`));
    expect(ids).toEqual([A]);
  });

  it('takes the column named by the column option', async () => {
    const path = await deviceFile('d.csv', `host,Endpoint\nh1,${A}\nh2,${B}\n`);
    expect((await readAll(path, { column: 'endpoint' })).ids).toEqual([A, B]);
  });

  it('reads the first column of a CSV without a header', async () => {
    const path = await deviceFile('d.csv', `${A},host1\n${B},host2\n`);
    const { ids, report } = await readAll(path);
    expect(ids).toEqual([A, B]);
    expect(report).toMatchObject({ format: 'csv', lines: 2 });
  });

  it('reads quoted CSV fields, semicolons, CRLF and a BOM', async () => {
    const text = `\ufeff"Device Name";"Device ID"\r\n"pc; one";" ${UPPER} "\r\n\r\n"pc2";${A}\r\n`;
    const { ids } = await readAll(await deviceFile('export.csv', text));
    expect(ids).toEqual([UPPER.toLowerCase(), A]);
  });

  it('reports a quoted CSV field spanning lines at the line where it ends', async () => {
    const path = await deviceFile('d.csv', `machineId,note\n${A},"two\nlines"\nbad,x\n`);
    const { report } = await readAll(path);
    expect(report.invalid).toEqual([{ line: 4, value: 'bad', reason: 'not-a-machine-id' }]);
  });

  it('reads a JSON array of strings and of objects with an id key', async () => {
    const json = `[\n  "${A}",\n  {"machineId": "${B}", "name": "x"},\n  {"Device ID": "${C}"}\n]\n`;
    const { ids, report } = await readAll(await deviceFile('d.json', json));
    expect(ids).toEqual([A, B, C]);
    expect(report).toMatchObject({ format: 'json', lines: 3 });
  });

  it('reports JSON array elements that carry no usable id, with their line', async () => {
    const json = `[\n"${A}",\n42,\n{"name": "x"},\n{"id": {"nested": "]"}},\n"short"\n]`;
    const { ids, report } = await readAll(await deviceFile('d.json', json));
    expect(ids).toEqual([A]);
    expect(report.invalid).toEqual([
      { line: 3, value: '42', reason: 'not-a-string' },
      { line: 4, value: '{"name": "x"}', reason: 'no-id-field' },
      { line: 5, value: '{"nested":"]"}', reason: 'not-a-string' },
      { line: 6, value: 'short', reason: 'not-a-machine-id' },
    ]);
  });

  it('reads NDJSON of objects and strings, taking the key named by the column option', async () => {
    const nd = `{"endpoint":"${A}"}\r\n\r\n"${B}"\n{"other":1}\nnot json\n`;
    const { ids, report } = await readAll(await deviceFile('d.ndjson', nd), { column: 'Endpoint' });
    expect(ids).toEqual([A, B]);
    expect(report.invalid.map((e) => [e.line, e.reason])).toEqual([
      [4, 'no-id-field'],
      [5, 'not-json'],
    ]);
  });

  it('detects the format from the content whatever the extension says', async () => {
    expect((await readAll(await deviceFile('ids.txt', `["${A}"]`))).report.format).toBe('json');
    expect((await readAll(await deviceFile('x.csv', `{"id":"${A}"}`))).report.format).toBe(
      'ndjson',
    );
    expect((await readAll(await deviceFile('x', `${A},h`))).report.format).toBe('csv');
    expect((await readAll(await deviceFile('x.csv', A))).report.format).toBe('csv');
  });
});

describe('readDeviceFile invalid lines and errors', () => {
  it('reports invalid lines with their line numbers and leaves them out', async () => {
    const text = `${A}\nnot-an-id\n\n${B.slice(1)}\n${B}\n${A}g\n`;
    const { ids, report } = await readAll(await deviceFile('ids.txt', text));
    expect(ids).toEqual([A, B]);
    expect(report).toMatchObject({ lines: 5, valid: 2, invalidCount: 3 });
    expect(report.invalid.map((e) => e.line)).toEqual([2, 4, 6]);
  });

  it('never echoes control characters of an invalid value', async () => {
    const { report } = await readAll(
      await deviceFile('ids.txt', `${A}\n\u001b[31mred\u202e\u0007\n`),
    );
    expect(report.invalid[0]?.value).toBe('\\u{1b}[31mred\\u{202e}\\u{7}');
  });

  it('lists at most invalidListLimit invalid lines but counts them all', async () => {
    const text = Array.from({ length: 30 }, (_, i) => `bad${i}`).join('\n');
    const { report } = await readAll(await deviceFile('ids.txt', text), { invalidListLimit: 5 });
    expect(report.invalid).toHaveLength(5);
    expect(report.invalidCount).toBe(30);
  });

  it('refuses a missing file with a message naming it', async () => {
    const promise = readDeviceFile('/nonexistent/devices.csv');
    await expect(promise).rejects.toBeInstanceOf(DeviceFileError);
    await expect(promise).rejects.toThrow(/"\/nonexistent\/devices.csv".*ENOENT/);
    await expect(promise).rejects.toMatchObject({ code: 'unreadable' });
  });

  it('refuses a CSV header without the id column, listing the columns it has', async () => {
    const path = await deviceFile('d.csv', `host,os\nh1,Linux\n`);
    const error = await readAll(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unknown-column', file: path, line: 1 });
    expect(String(error)).toContain('found "host", "os"');
  });

  it('refuses an unknown column option', async () => {
    const path = await deviceFile('d.csv', `machineId\n${A}\n`);
    await expect(readAll(path, { column: 'nope' })).rejects.toMatchObject({
      code: 'unknown-column',
    });
  });

  it('refuses a CSV with an unclosed quote, naming the line', async () => {
    const path = await deviceFile('d.csv', `machineId\n${A}\n"${B}\n${C}\n`);
    await expect(readAll(path)).rejects.toMatchObject({ code: 'malformed', line: 4 });
  });

  it('refuses a JSON array that is not closed', async () => {
    const path = await deviceFile('d.json', `["${A}",\n"${B}"`);
    await expect(readAll(path)).rejects.toMatchObject({ code: 'malformed', line: 2 });
  });
});

describe('readDeviceFile edge cases', () => {
  it('reads JSON strings holding brackets, commas and escaped quotes across chunks', async () => {
    const noise = { machineId: A, note: 'a "quoted" ], [ {, } value\\' };
    const json = `[${JSON.stringify(noise)}, "${B}" ,\n\n{"id":"${C}"}]`;
    const { ids, report } = await readAll(streamOf(json, 3));
    expect(ids).toEqual([A, B, C]);
    expect(report.invalidCount).toBe(0);
  });

  it('reads an empty JSON array and an empty file as no devices', async () => {
    expect((await readAll(await deviceFile('a.json', ' [ ] \n'))).report.lines).toBe(0);
    expect((await readAll(await deviceFile('e.txt', ''))).report).toMatchObject({ lines: 0 });
  });

  it('refuses a text file without the header named by the column option', async () => {
    const path = await deviceFile('ids.txt', `${A}\n`);
    await expect(readAll(path, { column: 'host' })).rejects.toMatchObject({
      code: 'unknown-column',
    });
  });

  it('refuses content after the end of a JSON array', async () => {
    const path = await deviceFile('d.json', `["${A}"]\n["${B}"]`);
    await expect(readAll(path)).rejects.toMatchObject({ code: 'malformed', line: 2 });
  });
});
