import type { Campaign } from '../../../campaigns/campaign.js';
import type { ArchivedCampaign } from '../../../retention/archive-index.js';
import { retentionFromConfig, type Retention } from '../../../runtime/retention-from-config.js';
import type { RetentionLock } from '../../../retention/retention-lock.js';
import { UsageError } from '../../errors.js';
import type { CommandSession } from './session.js';

/** The retention parts of a command session. */
export function retentionOf(session: CommandSession): Retention {
  return retentionFromConfig(session.config, session.redis, session.store);
}

/** A live or archived campaign, or exit 1 naming the id when there is neither. */
export async function requireAnyCampaign(
  retention: Retention,
  id: string,
): Promise<Campaign | ArchivedCampaign> {
  const campaign = await retention.reader.getCampaign(id);
  if (!campaign) {
    throw new UsageError(`No campaign ${JSON.stringify(id)}. List them with \`fleetscan status\`.`);
  }
  return campaign;
}

/** Runs `work` holding the retention lock; refuses when another process is archiving now. */
export async function withRetentionLock<T>(
  retention: Retention,
  work: (lock: RetentionLock) => Promise<T>,
): Promise<T> {
  const lock = retention.lock();
  if (!(await lock.take())) {
    throw new UsageError(
      'Another process is archiving right now (a worker’s retention sweep or another prune/archive); try again in a minute.',
    );
  }
  try {
    return await work(lock);
  } finally {
    await lock.drop().catch(() => undefined);
  }
}
