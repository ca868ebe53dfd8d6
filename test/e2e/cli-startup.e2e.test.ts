import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/shared/package-root.js';
import { cliTestEnv, ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

/**
 * Issue 26: commands load only what they use. An ESM resolve hook records every module the CLI
 * process resolves; packages it must not wake for a command are named here. (A CommonJS
 * package's own requires are not seen, but the first hop into it from our ESM code is.)
 */
const SERVER_AND_API = [
  'bullmq',
  'fastify',
  '@fastify/',
  '@bull-board/',
  '@azure/msal-node',
  'got',
  'pino-pretty',
  'prom-client',
  'csv-parse',
  'cron-parser',
  'selfsigned',
];
const EVERYTHING_BUT_COMMANDER = [...SERVER_AND_API, 'ioredis', 'pino', 'zod', 'yaml'];

let dir: string;
let prefix: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-startup-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.MODULE_TRACE, resolved.url + '\\n');
  return resolved;
}
`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
}, 240_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  if (prefix) await cleanupPrefix(testRedisUrl(), prefix);
});

/** Runs the CLI and returns its output and the packages (node_modules folders) it resolved. */
async function traced(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const trace = join(dir, `trace-${String(Math.random()).slice(2)}.txt`);
  writeFileSync(trace, '');
  const result = await runCli(args, {
    env: { ...env, MODULE_TRACE: trace },
    nodeArgs: ['--import', join(dir, 'register.mjs')],
  });
  const packages = new Set(
    readFileSync(trace, 'utf8')
      .split('\n')
      .map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1])
      .filter((name): name is string => name !== undefined),
  );
  return { ...result, packages: [...packages].sort() };
}

const loaded = (packages: readonly string[], forbidden: readonly string[]) =>
  packages.filter((p) => forbidden.some((f) => (f.endsWith('/') ? p.startsWith(f) : p === f)));

describe('CLI start-up', () => {
  it('prints --version loading nothing but commander', async () => {
    const result = await traced(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.startsWith(`${packageVersion()} (commit `)).toBe(true);
    expect(loaded(result.packages, EVERYTHING_BUT_COMMANDER)).toEqual([]);
    expect(result.packages).toContain('commander');
  });

  it.each(
    [['--help'], ['status', '--help'], ['schedule', 'add', '--help'], ['help', 'scan']].map(
      (args) => [args.join(' '), args] as const,
    ),
  )('%s loads nothing but commander', async (_name, args) => {
    const result = await traced(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: fleetscan');
    expect(loaded(result.packages, EVERYTHING_BUT_COMMANDER)).toEqual([]);
  });

  it('answers status --json without the server, API or token clients', async () => {
    prefix = uniquePrefix('startup');
    const result = await traced(['status', '--json'], cliTestEnv(prefix));
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ campaigns: [], store: { ok: true } });
    expect(loaded(result.packages, SERVER_AND_API)).toEqual([]);
    // It does read the configuration and Redis: the trace sees what it loads.
    expect(result.packages).toEqual(expect.arrayContaining(['ioredis', 'zod']));
  });

  it('still lists every command in the bash completion script', async () => {
    const help = await runCli(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)\b/gm)]
      .map((m) => m[1]!)
      .filter((name) => name !== 'help');
    expect(commands.length).toBeGreaterThan(20);
    const bash = await runCli(['completion', 'bash']);
    expect(bash.code, bash.stderr).toBe(0);
    for (const command of commands) expect(bash.stdout).toContain(`    ${command}) words="`);
  });
});
