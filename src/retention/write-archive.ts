import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Campaign, DeviceRecord } from '../campaigns/campaign.js';
import {
  ARCHIVE_VERSION,
  ArchiveCorruptError,
  archiveFileName,
  encodeDeviceLine,
  type ArchiveHeader,
  type ArchiveTrailer,
} from './archive-format.js';
import { verifyArchive } from './read-archive.js';
import {
  applyFileMode,
  DEFAULT_FILE_MODES,
  makeDirectory,
  type FileModes,
} from '../shared/file-modes.js';

export interface WrittenArchive {
  /** Absolute or archiveDir-relative path of the archive in place. */
  file: string;
  devices: number;
  sha256: string;
  bytes: number;
}

/** Flushes a file or directory to disk (a rename is durable only once its directory is synced). */
async function syncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a campaign's archive: to a temporary file in `dir`, fsynced, read back in full (count and
 * hash must match what was written), then renamed into place and the directory synced. Nothing
 * is ever at the final name that was not verified; a crash leaves at most a `.tmp` file behind.
 */
export async function writeArchive(input: {
  dir: string;
  campaign: Campaign;
  devices: AsyncIterable<DeviceRecord>;
  archivedAt: number;
  /** The campaign's lifecycle hash, kept in the header (`ArchiveHeader.lifecycle`). */
  lifecycle?: Record<string, string>;
  /** Called after every chunk written (lock renewal; it decides itself how often to act). */
  heartbeat?: () => Promise<void>;
  /** Default: 0600 files in a 0700 directory (`files.mode` / `files.dirMode`). */
  modes?: FileModes;
}): Promise<WrittenArchive> {
  const { dir, campaign } = input;
  const modes = input.modes ?? DEFAULT_FILE_MODES;
  await makeDirectory(dir, modes);
  const file = join(dir, archiveFileName(campaign.id));
  const temporary = join(
    dir,
    `.${archiveFileName(campaign.id)}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const hash = createHash('sha256');
  let devices = 0;
  const header: ArchiveHeader = {
    fleetscanArchive: ARCHIVE_VERSION,
    campaign,
    archivedAt: input.archivedAt,
    ...(input.lifecycle ? { lifecycle: input.lifecycle } : {}),
  };
  // Each chunk is encoded to UTF-8 once, for the hash and for gzip alike.
  async function* chunks(): AsyncIterable<Buffer> {
    yield Buffer.from(`${JSON.stringify(header)}\n`);
    let batch = '';
    for await (const device of input.devices) {
      batch += encodeDeviceLine(device);
      devices += 1;
      if (batch.length >= 65_536) {
        const chunk = Buffer.from(batch);
        hash.update(chunk); // the hash of the lines, fed a chunk at a time
        yield chunk;
        batch = '';
        await input.heartbeat?.();
      }
    }
    const last = Buffer.from(batch);
    hash.update(last);
    const trailer: ArchiveTrailer = {
      fleetscanArchiveEnd: ARCHIVE_VERSION,
      devices,
      sha256: hash.digest('hex'),
    };
    yield Buffer.concat([last, Buffer.from(`${JSON.stringify(trailer)}\n`)]);
  }
  try {
    await pipeline(
      Readable.from(chunks()),
      createGzip(),
      createWriteStream(temporary, { flags: 'wx', mode: modes.file }),
    );
    await applyFileMode(temporary, modes);
    // fsync through a second descriptor flushes the same file (fsync is per inode).
    await syncPath(temporary, 'r+');
    const bytes = (await stat(temporary)).size;
    const verified = await verifyArchive(temporary);
    if (verified.devices !== devices || verified.header.campaign.id !== campaign.id) {
      throw new ArchiveCorruptError(
        temporary,
        `wrote ${String(devices)} devices, read back ${String(verified.devices)}`,
      );
    }
    await rename(temporary, file);
    await syncPath(dir, 'r');
    return { file, devices, sha256: verified.sha256, bytes };
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
