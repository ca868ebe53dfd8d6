import { randomBytes } from 'node:crypto';
import {
  chmod,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../shared/logger.js';
import { TokenError } from './token-error.js';

export interface FileTokenCacheOptions {
  path: string;
  log: Logger;
  /** How long to wait for another process's lock (default 10 s). */
  lockTimeoutMs?: number;
  /** A lock older than this was left by a killed process and is broken (default 10 s). */
  staleLockMs?: number;
}

/**
 * MSAL's token cache persisted in one plaintext JSON file with mode 0600, shared by every
 * fleetscan process of this user (login, workers, `auth status`).
 *
 * Why not `@azure/msal-node-extensions`: it needs `keytar`, a native addon whose build needs the
 * libsecret headers and fails in `npm ci` on headless Linux hosts, which is where workers run.
 * This is the plaintext fallback that library itself uses there, so the file holds refresh tokens
 * in clear: it is readable only by its owner, and a warning says so once per process.
 *
 * Safe for several processes: a lock file (O_EXCL) is held from MSAL's `beforeCacheAccess` to its
 * `afterCacheAccess`, so a read-modify-write of one process never interleaves with another's, and
 * each write goes to a temporary file renamed over the cache (readers never see half a file).
 */
export function createFileTokenCache(options: FileTokenCacheOptions): ICachePlugin & {
  readonly path: string;
} {
  const { path, log } = options;
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const staleLockMs = options.staleLockMs ?? 10_000;
  let warned = false;
  let held = false;

  const lock = async () => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cacheError(error, 'lock');
      }
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleLockMs) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new TokenError(
          'token_cache_locked',
          `The token cache ${path} stayed locked for ${String(lockTimeoutMs)} ms`,
          { transient: true },
        );
      }
      await sleep(10 + Math.floor(Math.random() * 30));
    }
  };

  const unlock = async () => {
    if (!held) return;
    held = false;
    await rm(lockPath, { force: true });
  };

  return {
    path,
    async beforeCacheAccess(context: TokenCacheContext) {
      if (!warned) {
        warned = true;
        log.warn(
          { cachePath: path },
          'token cache is a plaintext file (mode 0600): refresh tokens are readable by this OS user',
        );
      }
      await lock();
      try {
        const text = await readFile(path, 'utf8').catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
          throw cacheError(error, 'read');
        });
        if (text !== '') context.tokenCache.deserialize(text);
      } catch (error) {
        await unlock();
        throw error;
      }
    },
    async afterCacheAccess(context: TokenCacheContext) {
      try {
        if (!context.cacheHasChanged) return;
        const temp = `${path}.${String(process.pid)}.${randomBytes(4).toString('hex')}.tmp`;
        try {
          await writeFile(temp, context.tokenCache.serialize(), { mode: 0o600 });
          // umask may have widened nothing, but an older file may have other bits: be explicit.
          await chmod(temp, 0o600);
          await rename(temp, path);
        } catch (error) {
          await rm(temp, { force: true });
          throw cacheError(error, 'write');
        }
      } finally {
        await unlock();
      }
    },
  };
}

function cacheError(error: unknown, what: string): TokenError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  return new TokenError('token_cache_unusable', `Cannot ${what} the token cache (${code})`, {
    cause: error,
  });
}
