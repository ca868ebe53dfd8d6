import { get as httpsGet } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSimulateCommand } from '../../../src/cli/commands/simulate.js';
import { UsageError } from '../../../src/cli/errors.js';
import { REAL_PENDING_TIMING } from '../../../src/cli/commands/simulator-environment.js';
import { loadConfig } from '../../../src/config/load.js';

function program(): Command {
  const p = new Command('fleetscan').exitOverride();
  registerSimulateCommand(p);
  return p;
}

async function runSimulate(args: string[]): Promise<void> {
  await program().parseAsync(['node', 'fleetscan', 'simulate', ...args]);
}

/** Starts `simulate` in-process, waits for its one line, returns the line and a stop function. */
async function startSimulate(args: string[]): Promise<{ line: string; stop: () => Promise<void> }> {
  const printed: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  const before = new Set(process.listeners('SIGTERM'));
  const running = runSimulate(['--port', '0', ...args]);
  await vi.waitFor(
    () => {
      expect(printed.join('')).toContain('listening');
    },
    { timeout: 20_000, interval: 20 },
  );
  const listener = process.listeners('SIGTERM').find((l) => !before.has(l));
  expect(listener).toBeDefined();
  return {
    line: printed.find((chunk) => chunk.includes('listening')) ?? '',
    stop: async () => {
      (listener as () => void)();
      await running;
    },
  };
}

describe('fleetscan simulate', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    [['--fleet', '10', '--machines', 'x.json'], /either --fleet or --machines/],
    [['--port', '70000'], /--port/],
    [['--fault-rate', '2'], /--fault-rate/],
    [['--lost-rate', 'often'], /--lost-rate/],
    [['--latency-ms', '40-5'], /--latency-ms/],
    [['--latency-legs', 'request'], /--latency-legs/],
    [['--time-scale', '0'], /--time-scale/],
    [['--rate-limits', '100 per minute'], /--rate-limits/],
    [['--machines', '/nonexistent/devices.json'], /--machines/],
    [['--tenant-id', 'a/b'], /--tenant-id/],
  ])('refuses %j with a UsageError naming the flag', async (args, message) => {
    const run = runSimulate(args);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(message);
  });

  it('listens, prints a working environment for plain HTTP, and closes on SIGTERM', async () => {
    const { line, stop } = await startSimulate([
      '--fleet',
      '20',
      '--client-secret',
      'canary-secret',
    ]);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    expect(url).toBeDefined();
    expect(line).toContain(`MDE_API_URL=${url!}`);
    // MSAL refuses an http:// authority: a ready token instead of a sign-in that cannot work.
    expect(line).not.toContain('MDE_AUTHORITY_HOST=http://');
    expect(line).toContain('MSAL signs in only over HTTPS');
    expect(line).not.toContain('FLEETSCAN_RATE_LIMITS');
    const token = /MDE_ACCESS_TOKEN=(\S+)/.exec(line)?.[1] ?? '';
    // One `export` line per setting, ready to paste into a shell; notes are comments.
    const lines = line.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('export ')).map((l) => l.split('=')[0])).toEqual([
      'export MDE_API_URL',
      'export GRAPH_API_URL',
      'export MDE_ACCESS_TOKEN',
      'export GRAPH_ACCESS_TOKEN',
    ]);
    expect(lines).toContain(`export MDE_API_URL=${url!}`);
    expect(lines.slice(1).every((l) => l.startsWith('export ') || l.startsWith('# '))).toBe(true);
    expect(line).not.toContain('FLEETSCAN_PENDING_RETRY');
    expect((await fetch(`${url!}/api/machines`)).status).toBe(401);
    const authorized = await fetch(`${url!}/api/machines`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(authorized.status).toBe(200);
    await stop();
    await expect(fetch(`${url!}/api/machines`)).rejects.toThrow();
  });

  it('prints the FLEETSCAN_RATE_LIMITS and busy-device timing matching its time scale', async () => {
    const { line, stop } = await startSimulate(['--fleet', '5', '--time-scale', '60']);
    await stop();
    expect(line).toContain('export FLEETSCAN_RATE_LIMITS=100/1000ms,1500/60000ms\n');
    // 5 min, 30 min and 24 h at ×60: a busy device of a compressed trial waits 5 s, not 5 min.
    expect(line).toContain('export FLEETSCAN_PENDING_RETRY=5000ms\n');
    expect(line).toContain('export FLEETSCAN_PENDING_RETRY_CAP=30000ms\n');
    expect(line).toContain('export FLEETSCAN_PENDING_MAX_WAIT=1440000ms\n');
    const scaled = loadConfig({
      env: {
        FLEETSCAN_PENDING_RETRY: '5000ms',
        FLEETSCAN_PENDING_RETRY_CAP: '30000ms',
        FLEETSCAN_PENDING_MAX_WAIT: '1440000ms',
      },
    }).scan;
    expect(scaled).toMatchObject({ pendingRetry: 5_000, pendingRetryCap: 30_000 });
    // The real timing it divides is config/default.yaml's.
    const { scan } = loadConfig({ env: {} });
    expect(REAL_PENDING_TIMING.map(([, ms]) => ms)).toEqual([
      scan.pendingRetry,
      scan.pendingRetryCap,
      scan.pendingMaxWait,
    ]);
    const custom = await startSimulate(['--fleet', '5', '--rate-limits', '10/1s']);
    await custom.stop();
    expect(custom.line).toContain('FLEETSCAN_RATE_LIMITS=10/1000ms');
  });

  it('serves HTTPS with --tls and writes the certificate a client must trust', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetscan-sim-cli-'));
    const certFile = join(dir, 'ca.pem');
    try {
      const { line, stop } = await startSimulate([
        '--fleet',
        '5',
        '--tls',
        '--tls-cert-out',
        certFile,
      ]);
      try {
        expect(line).toContain(`NODE_EXTRA_CA_CERTS=${certFile}`);
        for (const name of ['MDE_AUTHORITY_HOST=https://', 'MDE_TENANT_ID=', 'MDE_CLIENT_SECRET='])
          expect(line).toContain(name);
        expect(line).not.toContain('MDE_ACCESS_TOKEN');
        const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
        expect(url).toBeDefined();
        const ca = await readFile(certFile, 'utf8');
        const status = await new Promise<number>((resolve, reject) => {
          httpsGet(`${url!}/api/machines`, { ca }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject);
        });
        expect(status).toBe(401);
      } finally {
        await stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
