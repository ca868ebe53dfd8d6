import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Campaign } from '../../src/campaigns/campaign.js';
import { ARCHIVE_VERSION, encodeDeviceLine } from '../../src/retention/archive-format.js';

const MIB = 1 << 20;

/**
 * The probe's crafted archive: a valid header line, then one line that inflates to `lineMiB`
 * MiB of `a` with no newline. gzip allows concatenated members, so one 1 MiB member repeated
 * makes a file of about 1 KiB per inflated MiB (700 MiB → ~0.7 MB on disk).
 */
export function writeBombArchive(file: string, campaign: Campaign, lineMiB = 700): number {
  const header = gzipSync(
    `${JSON.stringify({ fleetscanArchive: ARCHIVE_VERSION, campaign, archivedAt: Date.now() })}\n`,
  );
  const member = gzipSync(Buffer.alloc(MIB, 'a'), { level: 9 });
  const bytes = Buffer.concat([header, ...Array.from({ length: lineMiB }, () => member)]);
  writeFileSync(file, bytes);
  return bytes.length;
}

/** A real archive cut in half: gunzip ends with `unexpected end of file`. */
export function truncateArchive(file: string): void {
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** A gzip of device lines with incompressible reasons, for a truncation that cuts mid-stream. */
export function writeRandomArchive(file: string, campaign: Campaign, lines = 200): void {
  const body = Array.from({ length: lines }, (_, i) =>
    encodeDeviceLine({
      machineId: (i + 1).toString(16).padStart(40, '0'),
      state: 'failed',
      machineActionId: null,
      actionStatus: null,
      actionCreatedAt: null,
      reason: randomBytes(200).toString('hex'),
      attempts: 1,
      requestedAt: null,
      joinedExisting: false,
      sentAt: null,
      deferredUntil: null,
      firstBusyAt: null,
    }),
  ).join('');
  const header = { fleetscanArchive: ARCHIVE_VERSION, campaign, archivedAt: 1 };
  writeFileSync(file, gzipSync(`${JSON.stringify(header)}\n${body}`));
}
