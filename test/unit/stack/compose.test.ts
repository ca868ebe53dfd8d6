import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { verifyPassword } from '../../../src/dashboard/auth.js';
import { FLEETSCAN_ACL } from '../../helpers/secure-redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const buildDir = join(root, 'test/artifacts/stack-build');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  profiles?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  container_name?: string;
  secrets?: string[];
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { environment?: string }>;
};
const services = compose.services;
const ours = Object.entries(services).filter(([, s]) => s.image === 'fleetscan:latest');

/**
 * Compiles the CLI as the image does (tsc + the Lua/CSS/JS assets beside it), into a folder of its
 * own inside the repository so that packages resolve from node_modules, then asks it for help.
 */
function buildCli(): string {
  rmSync(buildDir, { recursive: true, force: true });
  // Type errors elsewhere in a tree under construction must not stop the emit: tsc emits anyway.
  spawnSync(
    join(root, 'node_modules/.bin/tsc'),
    ['-p', 'tsconfig.build.json', '--outDir', buildDir],
    { cwd: root },
  );
  const copy = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) copy(path);
      else if (['.lua', '.css', '.js', '.html', '.svg'].includes(extname(name)))
        cpSync(path, join(buildDir, relative(root, path)));
    }
  };
  copy(join(root, 'src'));
  return join(buildDir, 'src/cli/main.js');
}

let cli = '';
beforeAll(() => {
  cli = buildCli();
}, 180_000);

function help(command: string): string {
  return execFileSync(process.execPath, [cli, command, '--help'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('docker-compose.yml', () => {
  it('runs only commands and flags the CLI has', () => {
    expect(existsSync(cli)).toBe(true);
    expect(ours.map(([name]) => name).sort()).toEqual([
      'dashboard',
      'simulator',
      'worker',
      'worker-secure',
    ]);
    for (const [name, service] of ours) {
      const [command = '', ...args] = service.command ?? [];
      const text = help(command);
      expect(text, `${name}: ${command}`).toContain(`Usage: fleetscan ${command}`);
      expect(text, `${name}: ${command} is still a placeholder`).not.toContain('(not built yet)');
      for (const flag of args.filter((arg) => arg.startsWith('--'))) {
        expect(text, `${name}: ${command} ${flag}`).toMatch(new RegExp(`\\s${flag}[\\s,]`));
      }
    }
  });

  it('prints a password hash the dashboard accepts (dashboard --hash-password)', async () => {
    const hash = execFileSync(process.execPath, [cli, 'dashboard', '--hash-password'], {
      cwd: root,
      encoding: 'utf8',
      input: 'correct horse battery\n',
      timeout: 30_000,
    }).trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
  });

  it('keeps Redis durable, non-evicting and checked', () => {
    const redis = services['redis']!;
    const args = (redis.command ?? []).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--appendfsync everysec');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(
      redis.volumes?.some((v) => v.endsWith(':/data') && v.split(':')[0]! in compose.volumes),
    ).toBe(true);
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('lets workers scale and publishes the dashboard on loopback only', () => {
    const worker = services['worker']!;
    expect(worker.ports).toBeUndefined();
    expect(worker.container_name).toBeUndefined();
    expect(worker.environment?.['REDIS_URL']).toBe('redis://redis:6379');
    const dashboard = services['dashboard']!;
    expect(dashboard.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(dashboard.environment).toHaveProperty('FLEETSCAN_DASHBOARD_TOKEN');
    for (const published of Object.values(services).flatMap((s) => s.ports ?? [])) {
      expect(published).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('has a secure profile: an ACL-only Redis reached by three workers through a secret file', () => {
    const redis = services['redis-secure']!;
    const script = (redis.command ?? []).join(' ');
    expect(redis.profiles).toEqual(['secure']);
    expect(script).toContain('--user default off');
    // The same rules the TLS/ACL end-to-end test runs a campaign under.
    expect(script).toContain(
      FLEETSCAN_ACL.map((rule) =>
        rule.startsWith('+') || rule.startsWith('-') ? rule : `"${rule}"`,
      ).join(' '),
    );
    expect(script).toContain('--maxmemory-policy noeviction');
    const worker = services['worker-secure'] as Service & { deploy?: { replicas?: number } };
    expect(worker.deploy?.replicas).toBe(3);
    expect(worker.secrets).toEqual(['redis_password']);
    expect(worker.environment).toMatchObject({
      REDIS_URL: 'redis://redis-secure:6379',
      FLEETSCAN_REDIS_USERNAME: 'fleetscan',
      FLEETSCAN_REDIS_PASSWORD_FILE: '/run/secrets/redis_password',
    });
    expect(worker.environment).not.toHaveProperty('REDIS_PASSWORD');
    expect(compose.secrets['redis_password']).toEqual({ environment: 'REDIS_PASSWORD' });
  });

  it('puts monitoring and the simulator behind profiles', () => {
    expect(services['prometheus']?.profiles).toEqual(['monitoring']);
    expect(services['grafana']?.profiles).toEqual(['monitoring']);
    expect(services['simulator']?.profiles).toEqual(['demo']);
    expect(services['prometheus']?.secrets).toEqual(['dashboard_token']);
    expect(compose.secrets['dashboard_token']).toEqual({
      environment: 'FLEETSCAN_DASHBOARD_TOKEN',
    });
    for (const [, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(root, source)), source).toBe(true);
      }
    }
  });

  it('points the demo environment at the simulator with the credentials it accepts', () => {
    const env = Object.fromEntries(
      readFileSync(join(root, 'config/compose-demo.env'), 'utf8')
        .split('\n')
        .filter((line) => /^\w+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const sim = services['simulator']!.command!;
    const flag = (name: string) => sim[sim.indexOf(name) + 1];
    expect(env['MDE_TENANT_ID']).toBe(flag('--tenant-id'));
    expect(env['MDE_CLIENT_ID']).toBe(flag('--client-id'));
    expect(env['MDE_CLIENT_SECRET']).toBe(flag('--client-secret'));
    expect(env['NODE_EXTRA_CA_CERTS']).toBe(flag('--tls-cert-out'));
    expect(env['MDE_API_URL']).toBe(`https://simulator:${flag('--port')}`);
  });
});
