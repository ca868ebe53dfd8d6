import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSimulateCommand } from '../../../src/cli/commands/simulate.js';
import { UsageError } from '../../../src/cli/errors.js';

function program(): Command {
  const p = new Command('fleetscan').exitOverride();
  registerSimulateCommand(p);
  return p;
}

async function runSimulate(args: string[]): Promise<void> {
  await program().parseAsync(['node', 'fleetscan', 'simulate', ...args]);
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
    [['--time-scale', '0'], /--time-scale/],
    [['--rate-limits', '100 per minute'], /--rate-limits/],
    [['--machines', '/nonexistent/devices.json'], /--machines/],
    [['--tenant-id', 'a/b'], /--tenant-id/],
  ])('refuses %j with a UsageError naming the flag', async (args, message) => {
    const run = runSimulate(args);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(message);
  });

  it('listens, prints where and the environment a client needs, and closes on SIGTERM', async () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const before = new Set(process.listeners('SIGTERM'));
    const running = runSimulate([
      '--port',
      '0',
      '--fleet',
      '20',
      '--client-secret',
      'canary-secret',
    ]);
    await vi.waitFor(
      () => {
        expect(printed.join('')).toContain('listening');
      },
      { timeout: 20_000, interval: 20 },
    );
    const line = printed.find((chunk) => chunk.includes('listening')) ?? '';
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    expect(url).toBeDefined();
    for (const name of ['MDE_API_URL', 'MDE_AUTHORITY_HOST', 'MDE_TENANT_ID', 'MDE_CLIENT_ID'])
      expect(line).toContain(`${name}=`);
    expect(line).toContain('MDE_CLIENT_SECRET=canary-secret');
    expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1).toBe(true);
    const answer = await fetch(`${url!}/api/machines`);
    expect(answer.status).toBe(401);
    const stop = process.listeners('SIGTERM').find((l) => !before.has(l));
    expect(stop).toBeDefined();
    (stop as () => void)();
    await running;
    await expect(fetch(`${url!}/api/machines`)).rejects.toThrow();
  });
});
