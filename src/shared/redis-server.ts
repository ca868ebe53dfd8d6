import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisHandle {
  url: string;
  /** Where it came from: REDIS_URL, the local default port, a container, or a redis-server we started. */
  source: 'env' | 'local' | 'container' | 'spawned';
  stop(): Promise<void>;
}

export interface OwnRedis extends RedisHandle {
  port: number;
  process: ChildProcess;
  dir: string;
  /** Kills the server (SIGKILL by default, as a crash would) without removing its data folder. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Finds a Redis for tests and the demo: REDIS_URL if set; else 127.0.0.1:6379 if it answers;
 * else a testcontainers Redis where a Docker engine answers; else `redis-server` from PATH on a
 * free port. Throws, saying what to install, when there is none.
 */
export async function obtainRedis(env: NodeJS.ProcessEnv = process.env): Promise<RedisHandle> {
  const fromEnv = env['REDIS_URL'];
  if (fromEnv) return { url: fromEnv, source: 'env', stop: () => Promise.resolve() };

  const local = 'redis://127.0.0.1:6379';
  if (await answersPing(local))
    return { url: local, source: 'local', stop: () => Promise.resolve() };

  const container = await startContainer();
  if (container) return container;

  try {
    return await startRedisServer();
  } catch (error) {
    throw new Error(
      'No Redis available: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, no Docker engine ' +
        `answered, and redis-server could not be started (${(error as Error).message}). ` +
        'Install Redis (apt-get install redis-server) or set REDIS_URL.',
      { cause: error },
    );
  }
}

/**
 * Starts a private redis-server on a free port, AOF on when asked (durability and crash tests).
 * `host` (default 127.0.0.1) is the one address it listens on, e.g. a virtual network's bridge.
 */
export async function startRedisServer(
  options: { aof?: boolean; port?: number; dir?: string; host?: string } = {},
): Promise<OwnRedis> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fleetscan-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    // Bound to one address that is not loopback: clients on it need no password in a test.
    ...(host === '127.0.0.1' ? [] : ['--protected-mode', 'no']),
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--appendonly',
    options.aof ? 'yes' : 'no',
    ...(options.aof ? ['--appendfsync', 'always'] : []),
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const url = `redis://${host}:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = await Promise.race([answersPing(url), spawnError]);
    if (ready) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('redis-server did not answer within 10 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  return {
    url,
    port,
    dir,
    process: child,
    source: 'spawned',
    kill,
    stop: async () => {
      await kill('SIGTERM');
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function answersPing(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function startContainer(): Promise<RedisHandle | undefined> {
  let testcontainers: typeof import('testcontainers');
  try {
    testcontainers = await import('testcontainers');
  } catch {
    return undefined; // not installed (production image): fall through to redis-server
  }
  try {
    await testcontainers.getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker engine answers
  }
  const container = await new testcontainers.GenericContainer('redis:7-alpine')
    .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
    .withExposedPorts(6379)
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    source: 'container',
    stop: async () => {
      await container.stop();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}
