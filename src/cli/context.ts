import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createRedis, describeRedisUrl, type Redis } from '../shared/redis.js';
import { explainRedisError } from '../shared/redis-errors.js';
import { UsageError } from './errors.js';
import { readStoreSchema, schemaRefusal } from '../ops/store-schema.js';

export { printJson } from './commands/shared/output.js';

export interface GlobalOptions {
  config?: string;
  logFormat?: string;
  json?: boolean;
}

/**
 * Loads the configuration for a command: defaults, `--config` file, environment, flag overrides.
 * `--log-format` wins for the log format; `--json` means a program reads the output: JSON logs.
 */
export function configFor(command: Command, overrides: Record<string, unknown> = {}): Config {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const logFormat = globals.logFormat ?? (globals.json === true ? 'json' : undefined);
  return loadConfig({ file: globals.config, overrides: { 'log.format': logFormat, ...overrides } });
}

export function loggerFor(config: Config, name = 'fleetscan'): Logger {
  return createLogger({ level: config.log.level, name, format: config.log.format });
}

/**
 * A Redis connection for a one-shot command: answers PING within a few seconds or fails with a
 * message that names the (password-less) URL.
 */
export async function connectRedisForCommand(
  config: Config,
  access: 'read' | 'write' = 'write',
): Promise<Redis> {
  const redis = createRedis(config.redis, { failFast: true, connectionName: 'fleetscan-cli' });
  let lastError: unknown;
  redis.on('error', (error) => {
    lastError = error; // reported below, once, instead of per reconnect
  });
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) =>
        setTimeout(() => {
          reject(new Error('timed out'));
        }, 5_000).unref(),
      ),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new UsageError(
      explainRedisError(lastError ?? error, describeRedisUrl(config.redis.url)).message,
    );
  }
  // A store of a newer version stops every command; one of an older version stops writes until
  // `fleetscan migrate`. A read that fails here (an ACL without the prefix, say) reaches the
  // command's own first call too, which explains it and closes the connection.
  const schema = await readStoreSchema(redis, config.redis.prefix).catch(() => null);
  const refusal = schema && schemaRefusal(schema, access);
  if (refusal) {
    redis.disconnect();
    throw new UsageError(refusal);
  }
  return redis;
}
