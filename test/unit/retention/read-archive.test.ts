import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import { ArchiveCorruptError } from '../../../src/retention/archive-format.js';
import {
  readArchiveDevices,
  readArchiveHeader,
  verifyArchive,
} from '../../../src/retention/read-archive.js';
import { writeArchive } from '../../../src/retention/write-archive.js';
import {
  truncateArchive,
  writeBombArchive,
  writeRandomArchive,
} from '../../helpers/hostile-archive.js';

const campaign = { id: 'c-abcdefabcdef', name: 'weekly', state: 'finished' } as Campaign;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-hostile-archive-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function drain(file: string): Promise<unknown> {
  try {
    for await (const device of readArchiveDevices(file))
      expect(device.machineId).toBeTypeOf('string');
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('reading a hostile archive', () => {
  it('refuses a line that inflates to 700 MiB while streaming, with bounded memory', async () => {
    const file = join(dir, `${campaign.id}.ndjson.gz`);
    writeBombArchive(file, campaign, 700);
    expect(statSync(file).size).toBeLessThan(1_000_000);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const error = await drain(file);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(error).toBeInstanceOf(ArchiveCorruptError);
    expect((error as ArchiveCorruptError).file).toBe(file);
    expect((error as Error).message).toBe(
      `Archive ${file} is damaged: line 2 is longer than 4194304 bytes (not written by fleetscan)`,
    );
    // The old reader held the whole line (and died at V8's string limit, ~512 MiB).
    expect(peak - baseline).toBeLessThan(128 * (1 << 20));
  });

  it('still reads the header of such an archive (the bad line comes after it)', async () => {
    const file = join(dir, 'bomb.ndjson.gz');
    writeBombArchive(file, campaign, 8);
    expect((await readArchiveHeader(file)).campaign.id).toBe(campaign.id);
  });

  it('names a truncated archive and says it is cut short', async () => {
    const file = join(dir, 'cut.ndjson.gz');
    writeRandomArchive(file, campaign);
    truncateArchive(file);
    const error = await drain(file);
    expect(error).toBeInstanceOf(ArchiveCorruptError);
    expect((error as Error).message).toBe(
      `Archive ${file} is damaged: the gzip stream is cut short (truncated file)`,
    );
    await expect(verifyArchive(file)).rejects.toThrow(/cut short \(truncated file\)/);
  });

  it('names a file that is not gzip at all', async () => {
    const file = join(dir, 'plain.ndjson.gz');
    writeFileSync(file, 'not gzip\n');
    const error = await drain(file);
    expect(error).toBeInstanceOf(ArchiveCorruptError);
    expect((error as Error).message).toMatch(/is damaged: not a valid gzip stream/);
  });
});

describe('file modes of archives', () => {
  const device = {
    machineId: 'a'.repeat(40),
    state: 'requested',
    machineActionId: 'act-1',
    actionStatus: 'Succeeded',
    actionCreatedAt: null,
    reason: null,
    attempts: 1,
    requestedAt: 1,
    joinedExisting: false,
    sentAt: 1,
    deferredUntil: null,
    firstBusyAt: null,
  } as const;
  async function* one() {
    yield await Promise.resolve({ ...device });
  }

  it('writes archives 0600 in a new 0700 directory, whatever the umask', async () => {
    const target = join(dir, 'new', 'archives');
    const written = await writeArchive({ dir: target, campaign, devices: one(), archivedAt: 1 });
    expect(statSync(written.file).mode & 0o777).toBe(0o600);
    expect(statSync(target).mode & 0o777).toBe(0o700);
  });

  it('uses the configured modes instead', async () => {
    const target = join(dir, 'shared');
    const written = await writeArchive({
      dir: target,
      campaign,
      devices: one(),
      archivedAt: 1,
      modes: { file: 0o640, dir: 0o750 },
    });
    expect(statSync(written.file).mode & 0o777).toBe(0o640);
    expect(statSync(target).mode & 0o777).toBe(0o750);
  });
});
