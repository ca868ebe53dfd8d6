import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/shared/package-root.js';
import { ensureBuilt } from '../helpers/cli.js';
import { testRedisUrl } from '../helpers/redis.js';

const root = packageRoot();
const work = mkdtempSync(join(tmpdir(), 'fleetscan-pack-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/**
 * How this host reaches the npm registry: its proxy and the CA that proxy's certificates chain to.
 * Without them npm retries a failing TLS handshake for many minutes instead of failing.
 */
const NETWORK_ENV = [
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];
const networkEnv = Object.fromEntries(
  NETWORK_ENV.filter((name) => process.env[name] !== undefined).map((name) => [
    name,
    process.env[name],
  ]),
);

/** What a step may take before it is stopped and the test fails naming it. */
const STEP_TIMEOUT_MS = 240_000;

/** Runs a command to its end with output collected; the test's own environment is not passed on. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: STEP_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (signal !== null)
        stderr += `\n${command} ${args.join(' ')}: stopped by ${signal} after ${String(STEP_TIMEOUT_MS)} ms or on a signal`;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the release tarball (npm pack)', () => {
  it('installs globally and runs --version, doctor and demo outside the clone', async () => {
    const t0 = Date.now();
    const step = (name: string) => {
      console.error(`package test: ${name} after ${Date.now() - t0} ms`);
    };
    await ensureBuilt();
    step('built');
    // The build is already there (ensureBuilt): pack it as it is instead of compiling again.
    const pack = spawnSync(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      { cwd: root, encoding: 'utf8' },
    );
    expect(pack.status, pack.stderr).toBe(0);
    step('packed');
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/build-info.json');
    expect(files).toContain('config/default.yaml');
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);

    const prefix = join(work, 'global');
    const install = await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(work, packed!.filename),
      ],
      work,
      { ...networkEnv, npm_config_cache: join(process.env['HOME'] ?? work, '.npm') },
    );
    expect(install.code, install.stderr).toBe(0);
    step('installed');
    const fleetscan = join(prefix, 'bin', 'fleetscan');
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);

    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    const shown = await run(fleetscan, ['--version'], elsewhere);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout.trim()).toMatch(
      new RegExp(
        `^${version.replace(/[.]/g, '\\.')} \\(commit ([0-9a-f]{12}(\\+dirty)?|unknown)\\)$`,
      ),
    );

    // Doctor with nothing configured but Redis: it runs every check and names what is missing.
    const doctor = await run(fleetscan, ['doctor', '--json'], elsewhere, {
      REDIS_URL: testRedisUrl(),
    });
    expect(doctor.stderr).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
    const report = JSON.parse(doctor.stdout) as { checks: { status: string }[] };
    expect(report.checks.length).toBeGreaterThan(3);
    expect(report.checks.some((c) => c.status === 'ok')).toBe(true);

    const demo = await run(
      fleetscan,
      ['demo', '--devices', '150', '--json', '--out', join(work, 'demo.csv')],
      elsewhere,
      { REDIS_URL: testRedisUrl() },
    );
    expect(demo.code, demo.stderr).toBe(0);
    const summary = JSON.parse(demo.stdout) as {
      devices: number;
      counts: Record<string, number>;
      simulator: { throttled: number };
    };
    expect(summary.devices).toBe(150);
    expect((summary.counts['requested'] ?? 0) + (summary.counts['failed'] ?? 0)).toBe(150);
    expect(summary.simulator.throttled).toBe(0);
    expect(readFileSync(join(work, 'demo.csv'), 'utf8').split('\n').length).toBeGreaterThan(150);
  }, 600_000);
});
