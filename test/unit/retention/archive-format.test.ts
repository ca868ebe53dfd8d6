import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Campaign, DeviceRecord } from '../../../src/campaigns/campaign.js';
import { exportDevices, EXPORT_COLUMNS } from '../../../src/campaigns/export-devices.js';
import {
  ArchiveCorruptError,
  decodeDeviceLine,
  encodeDeviceLine,
} from '../../../src/retention/archive-format.js';
import { readArchiveDevices, readArchiveHeader } from '../../../src/retention/read-archive.js';
import { writeArchive } from '../../../src/retention/write-archive.js';

const device = (i: number, over: Partial<DeviceRecord> = {}): DeviceRecord => ({
  machineId: i.toString(16).padStart(40, '0'),
  state: 'requested',
  machineActionId: `act-${String(i)}`,
  actionStatus: 'Succeeded',
  actionCreatedAt: '2026-11-23T11:00:00.123Z',
  reason: null,
  attempts: 2,
  requestedAt: 1_764_000_000_123 + i,
  joinedExisting: i % 2 === 0,
  sentAt: 1_764_000_000_000,
  deferredUntil: null,
  firstBusyAt: i % 3 === 0 ? 1_763_999_000_000 : null,
  ...over,
});

const campaign = { id: 'c-abcdefabcdef', name: 'weekly', state: 'finished' } as Campaign;

async function* from<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}
async function text(chunks: AsyncIterable<string>) {
  let all = '';
  for await (const chunk of chunks) all += chunk;
  return all;
}
async function list<T>(items: AsyncIterable<T>) {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-format-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('archive format', () => {
  const odd = [
    device(1),
    device(2, {
      state: 'failed',
      machineActionId: null,
      actionStatus: null,
      requestedAt: null,
      reason: 'BadRequest: "x", =1\nline',
    }),
    device(3, { state: 'cancelled', attempts: 0, sentAt: null, actionCreatedAt: null }),
  ];

  it('writes a device line as its export row first, then the fields the export leaves out', () => {
    const line = JSON.parse(encodeDeviceLine(odd[0]!)) as Record<string, unknown>;
    expect(Object.keys(line).slice(0, EXPORT_COLUMNS.length)).toEqual([...EXPORT_COLUMNS]);
    expect(line['requestedAt']).toBe(new Date(odd[0]!.requestedAt!).toISOString());
    expect(line).toMatchObject({
      sentAt: odd[0]!.sentAt,
      actionCreatedAt: odd[0]!.actionCreatedAt,
    });
  });

  it.each(odd.map((d) => [d.state, d] as const))(
    'reads a %s device back as it was stored',
    (_s, d) => {
      expect(decodeDeviceLine(encodeDeviceLine(d).trimEnd(), 'f')).toEqual(d);
    },
  );

  it('round-trips a campaign through a file into a byte-identical export', async () => {
    const devices = Array.from({ length: 2_000 }, (_, i) => device(i));
    const written = await writeArchive({ dir, campaign, devices: from(devices), archivedAt: 5 });
    expect(written.devices).toBe(2_000);
    expect((await readArchiveHeader(written.file)).campaign).toEqual(campaign);
    for (const format of ['csv', 'json', 'ndjson'] as const) {
      expect(await text(exportDevices(readArchiveDevices(written.file), format))).toBe(
        await text(exportDevices(from(devices), format)),
      );
    }
  });

  it('refuses an archive that lost its last lines or had a line changed', async () => {
    const written = await writeArchive({ dir, campaign, devices: from(odd), archivedAt: 5 });
    const lines = gunzipSync(readFileSync(written.file)).toString().split('\n');
    const cut = join(dir, 'cut.ndjson.gz');
    writeFileSync(cut, gzipSync(lines.slice(0, 3).join('\n') + '\n'));
    await expect(list(readArchiveDevices(cut))).rejects.toThrow(/cut short after 2 devices/);
    const changed = join(dir, 'changed.ndjson.gz');
    writeFileSync(changed, gzipSync(lines.join('\n').replace('act-1', 'act-9')));
    await expect(list(readArchiveDevices(changed))).rejects.toBeInstanceOf(ArchiveCorruptError);
    const garbage = join(dir, 'garbage.ndjson.gz');
    writeFileSync(garbage, 'not gzip at all');
    await expect(list(readArchiveDevices(garbage))).rejects.toBeInstanceOf(ArchiveCorruptError);
  });
});
