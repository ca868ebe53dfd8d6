import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenCacheContext, type ISerializableTokenCache } from '@azure/msal-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTokenCache } from '../../../src/auth/file-token-cache.js';
import { TokenError } from '../../../src/auth/token-error.js';
import { createLogger } from '../../../src/shared/logger.js';

/** Stands in for MSAL's in-memory cache: a JSON counter that is read, changed and written back. */
class CounterCache implements ISerializableTokenCache {
  value = 0;
  deserialize(text: string): void {
    this.value = (JSON.parse(text) as { value: number }).value;
  }
  serialize(): string {
    return JSON.stringify({ value: this.value });
  }
}

let dir: string;
let lines: string[];
const log = () => createLogger({ level: 'warn' }, { write: (line: string) => lines.push(line) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-cache-'));
  lines = [];
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** One MSAL cache access: read under the lock, add one, write back. */
async function increment(plugin: ReturnType<typeof createFileTokenCache>): Promise<void> {
  const cache = new CounterCache();
  const context = new TokenCacheContext(cache, true);
  await plugin.beforeCacheAccess(context);
  const read = cache.value;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
  cache.value = read + 1;
  await plugin.afterCacheAccess(context);
}

describe('the file token cache', () => {
  it('loses no update when two processes read, change and write it at once', async () => {
    const path = join(dir, 'nested', 'cache.json');
    const a = createFileTokenCache({ path, log: log() });
    const b = createFileTokenCache({ path, log: log() });
    await Promise.all(Array.from({ length: 40 }, (_, i) => increment(i % 2 === 0 ? a : b)));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ value: 40 });
    // Owner-only file, no lock or temporary file left behind.
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['cache.json']);
  });

  it('warns once per process that the file is plaintext, naming only the path', async () => {
    const path = join(dir, 'cache.json');
    const plugin = createFileTokenCache({ path, log: log() });
    await increment(plugin);
    await increment(plugin);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      cachePath: path,
      msg: expect.stringMatching(/plaintext file \(mode 0600\)/) as string,
    });
  });

  it('breaks a lock left by a killed process and times out on a live one', async () => {
    const path = join(dir, 'cache.json');
    writeFileSync(`${path}.lock`, '12345');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    await increment(createFileTokenCache({ path, log: log() }));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ value: 1 });

    writeFileSync(`${path}.lock`, '12345');
    const waiting = createFileTokenCache({ path, log: log(), lockTimeoutMs: 100 });
    const error = await increment(waiting).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'token_cache_locked', transient: true });
  });

  it('writes nothing when MSAL changed nothing, and still releases the lock', async () => {
    const path = join(dir, 'cache.json');
    const plugin = createFileTokenCache({ path, log: log() });
    const context = new TokenCacheContext(new CounterCache(), false);
    await plugin.beforeCacheAccess(context);
    await plugin.afterCacheAccess(context);
    expect(readdirSync(dir)).toEqual([]);
  });
});
