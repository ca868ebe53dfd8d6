import type { Config } from '../../../config/schema.js';
import type { Redis } from '../../../shared/redis.js';
import { auditSink, cliActor, type AuditSink } from '../../../audit/record-audit.js';
import { UsageError } from '../../errors.js';

// Errors that say "not like this" (unknown campaign, wrong state, bad spec), not "it broke".
const REFUSALS = new Set([
  'UsageError',
  'UnknownCampaignError',
  'RetryRefusedError',
  'StartCampaignError',
  'ScheduleSpecError',
  'CronError',
  'WindowError',
]);

/** The CLI's audit sink: `user@host`, source `cli`; an unwritable entry is a warning on stderr. */
export function cliAudit(session: { redis: Redis; config: Config }): AuditSink {
  return auditSink(session.redis, session.config.redis.prefix, cliActor(), {
    isRefusal: (error) =>
      error instanceof UsageError || (error instanceof Error && REFUSALS.has(error.name)),
    onUnrecorded: (error) => {
      process.stderr.write(
        `warning: the audit log entry was not written: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    },
  });
}
