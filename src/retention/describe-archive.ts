import { join } from 'node:path';
import type { ArchivedCampaign } from './archive-index.js';
import { formatBytes } from './format-bytes.js';

/** The line `status` adds under an archived campaign. */
export function describeArchive(campaign: ArchivedCampaign, archiveDir: string): string {
  const a = campaign.archived;
  const when = new Date(a.archivedAt).toISOString();
  return a.phase === 'done'
    ? `  ARCHIVED ${when} to ${join(archiveDir, a.file)} (${formatBytes(a.bytes)}); no longer in Redis`
    : `  ARCHIVED ${when} to ${join(archiveDir, a.file)}; removal from Redis not finished (the next prune or sweep finishes it)`;
}

/** The line `status` adds under the live campaigns when some are archived. */
export function describeArchivedCount(n: number): string {
  return `${n.toLocaleString('en-US')} archived campaign${n === 1 ? '' : 's'} not listed (no longer in Redis); \`fleetscan status ID\` and \`fleetscan export ID\` read them from their archives.`;
}
