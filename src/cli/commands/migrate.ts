import type { Command } from 'commander';
import { recordAudit } from '../../audit/record-audit.js';
import { cliAudit } from './shared/cli-audit.js';
import { UsageError } from '../errors.js';

const EXAMPLE = `
Examples:
  fleetscan migrate --dry-run                # what would change, nothing written
  fleetscan migrate                          # convert the store to this version's layout
  fleetscan migrate --json | jq .renamed

Converts the Redis store (redis.prefix) in place to the layout this version uses. Safe to run
twice and while workers of this version run; a store written by a newer version is refused,
unchanged. Recorded in the audit log.`;

/** `fleetscan migrate`: the one step a newer version asks for before it writes to an older store. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("Convert the Redis store to this version's layout (safe to run twice)")
    .option('--dry-run', 'say what would change; write nothing')
    .option('--json', 'print { from, to, dryRun, renamed, conflicts, summary }')
    .addHelpText('after', EXAMPLE)
    .action(async (options: { dryRun?: boolean; json?: boolean }, command: Command) => {
      const { configFor, connectRedisForCommand, printJson } = await import('../context.js');
      const { migrateStore, StoreSchemaError } = await import('../../ops/store-schema.js');
      const config = configFor(command);
      const prefix = config.redis.prefix;
      // Reading: the store's own schema decides below what may be written.
      const redis = await connectRedisForCommand(config, 'read');
      try {
        const dryRun = options.dryRun === true;
        const result = await migrateStore(redis, prefix, { dryRun }).catch((error: unknown) => {
          if (error instanceof StoreSchemaError) throw new UsageError(error.message);
          throw error;
        });
        if (!dryRun) {
          await recordAudit(cliAudit({ redis, config }), {
            action: 'store.migrate',
            target: prefix,
            outcome: 'ok',
            detail: result.summary,
          });
        }
        if (options.json === true) printJson(result);
        else process.stdout.write(`${result.summary}\n`);
      } finally {
        redis.disconnect();
      }
    });
}
