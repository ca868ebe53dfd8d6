import type { Redis } from '../shared/redis.js';
import { lifecycleKey } from '../tracking/lifecycle-store.js';

/**
 * What `fleetscan scan` left out of a campaign, by reason (invalid lines, duplicates, and the
 * target filter's skips such as inactive or excluded), summed over the scan runs of a campaign,
 * for the report's "targets" section.
 */
export async function recordIntake(
  redis: Redis,
  prefix: string,
  campaignId: string,
  skipped: Readonly<Record<string, number>>,
): Promise<void> {
  const key = lifecycleKey(prefix, campaignId);
  const entries = Object.entries(skipped).filter(([, n]) => n > 0);
  if (entries.length === 0) return;
  const multi = redis.multi();
  for (const [reason, n] of entries) multi.hincrby(key, `skip:${reason}`, n);
  await multi.exec();
}

/** The skip counts among the fields of the lifecycle hash (live, or kept in an archive). */
export function decodeIntake(fields: Readonly<Record<string, string>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([k]) => k.startsWith('skip:'))
      .map(([k, v]) => [k.slice(5), Number(v)]),
  );
}
