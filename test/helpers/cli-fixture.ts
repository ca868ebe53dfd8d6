import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { cliTestEnv, ensureBuilt } from './cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './redis.js';

/** What each test of an e2e CLI file works with, made afresh before every test. */
export interface CliTest {
  /** A scratch folder holding the `files` given, removed after the test. */
  dir: string;
  /** The test's own key prefix (deployment and budgets), emptied after the test. */
  prefix: string;
  /** The environment of a CLI child: the test Redis, the prefix, the log level. */
  env: NodeJS.ProcessEnv;
  /** A connection to the test Redis, for looking at and seeding keys. */
  redis: Redis;
}

export interface CliFixtureOptions {
  /** Files to write into the scratch folder before each test: name → content. */
  files?: Readonly<Record<string, string>>;
  /** LOG_LEVEL of the CLI children (default warn). */
  logLevel?: string;
}

/**
 * The set-up every e2e file of the CLI needs: builds `dist/` once, then per test a scratch
 * folder, a unique prefix, the CLI's environment and a Redis connection, and afterwards removes
 * them. `use` receives each test's values (assign them to the file's own variables).
 */
export function useCliFixture(
  name: string,
  use: (test: CliTest) => void,
  options: CliFixtureOptions = {},
): void {
  let current: CliTest | undefined;
  beforeAll(async () => {
    await ensureBuilt();
  }, 240_000);
  beforeEach(() => {
    const dir = mkdtempSync(join(tmpdir(), `fleetscan-${name}-`));
    for (const [file, content] of Object.entries(options.files ?? {}))
      writeFileSync(join(dir, file), content);
    const prefix = uniquePrefix(name);
    current = {
      dir,
      prefix,
      env: cliTestEnv(prefix, options.logLevel),
      redis: new Redis(testRedisUrl()),
    };
    use(current);
  });
  afterEach(async () => {
    if (!current) return;
    const { dir, prefix, redis } = current;
    current = undefined;
    rmSync(dir, { recursive: true, force: true });
    await cleanupPrefix(testRedisUrl(), prefix);
    redis.disconnect();
  });
}
