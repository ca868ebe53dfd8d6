import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { createRedis, describeRedisUrl, isClusterTarget } from '../../../src/shared/redis.js';
import { parseClusterUrl } from '../../../src/shared/redis-cluster-target.js';
import { configError } from '../../helpers/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetscan-cluster-config-'));
const withFile = (yaml: string) => {
  const file = join(dir, `${String(Math.random()).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return file;
};

describe('Redis Cluster settings', () => {
  it('takes a redis+cluster:// URL with credentials and several nodes', () => {
    const config = loadConfig({
      env: { REDIS_URL: 'redis+cluster://ops:s%40cret@10.0.0.5:7000,10.0.0.6:7001,[::1]:7002' },
    });
    expect(isClusterTarget(config.redis)).toBe(true);
    expect(parseClusterUrl(config.redis.url)).toEqual({
      nodes: [
        { host: '10.0.0.5', port: 7000 },
        { host: '10.0.0.6', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
      username: 'ops',
      password: 's@cret',
    });
    expect(describeRedisUrl(config.redis.url)).toBe(
      'redis+cluster://ops:***@10.0.0.5:7000,10.0.0.6:7001,[::1]:7002',
    );
  });

  it('takes `redis.cluster` from the file, and keeps a plain URL a single server', () => {
    const file = withFile('redis:\n  cluster: [redis-a:6379, redis-b:6379]\n');
    const config = loadConfig({ file, env: {} });
    expect(config.redis.cluster).toEqual(['redis-a:6379', 'redis-b:6379']);
    expect(isClusterTarget(config.redis)).toBe(true);
    expect(isClusterTarget(loadConfig({ env: {} }).redis)).toBe(false);
    expect(loadConfig({ env: {} }).redis.cluster).toBeNull();
  });

  it.each([
    ['an empty node list', 'redis:\n  cluster: []\n', 'redis.cluster', 'at least one host:port'],
    ['a node without a port', 'redis:\n  cluster: [redis-a]\n', 'redis.cluster.0', 'host:port'],
    ['a node with a bad port', 'redis:\n  cluster: ["a:99999"]\n', 'redis.cluster.0', 'host:port'],
  ])('refuses %s and names the key', (_, yaml, path, message) => {
    const error = configError(() => loadConfig({ file: withFile(yaml), env: {} }));
    expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain(message);
  });

  it.each(['redis+cluster://', 'redis+cluster://host-without-port', 'redis+cluster://a:1,b'])(
    'refuses the URL %s',
    (url) => {
      const error = configError(() => loadConfig({ env: { REDIS_URL: url } }));
      expect(error.issues[0]?.path).toBe('redis.url');
      expect(error.message).toContain('host:port');
    },
  );

  it('makes a Cluster with the same settings as a single connection', () => {
    const cluster = createRedis(
      {
        url: 'rediss+cluster://127.0.0.1:1',
        username: 'fleetscan',
        password: 'pw',
        tls: {},
      },
      { forBullmq: true, connectionName: 'fleetscan-test' },
    );
    cluster.on('error', () => undefined);
    cluster.disconnect();
    expect(cluster).toBeInstanceOf(Cluster);
    const options = (cluster as Cluster).options;
    expect(options.enableAutoPipelining).toBe(false);
    expect(options.redisOptions).toMatchObject({
      username: 'fleetscan',
      password: 'pw',
      connectionName: 'fleetscan-test',
      maxRetriesPerRequest: null,
      tls: {},
    });
  });
});
