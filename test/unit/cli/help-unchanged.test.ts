import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';

/**
 * `--help` of every command and the completion scripts, as text files in ./help/. They were
 * first captured from the CLI built on main before commands were loaded lazily (issue 26): lazy
 * loading must not change a character. A deliberate change of wording updates them with
 * `npx vitest run test/unit/cli/help-unchanged.test.ts -u`, reviewed in the same commit.
 */
const snapshot = (name: string) => `./help/${name}.txt`;

function commandPaths(command: Command, path: readonly string[] = []): string[][] {
  return [[...path], ...command.commands.flatMap((c) => commandPaths(c, [...path, c.name()]))];
}

/** What `fleetscan ...args` prints on stdout, run in this process as main.ts runs it. */
async function stdoutOf(args: readonly string[]): Promise<string> {
  let text = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  // A command made with `new Command()` (token) exits after its help instead of throwing.
  vi.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
    throw new Error(`exit ${String(code)}`);
  });
  const argv = ['node', 'fleetscan', ...args];
  try {
    await buildProgram(argv).parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'commander.helpDisplayed' && (error as Error).message !== 'exit 0') throw error;
  } finally {
    vi.restoreAllMocks();
  }
  return text;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the CLI help with lazily loaded commands', () => {
  const paths = commandPaths(buildProgram(['node', 'fleetscan']));

  it('has exactly the commands and subcommands it had', async () => {
    const names = paths.map((p) => ['fleetscan', ...p].join(' ')).sort();
    await expect(`${names.join('\n')}\n`).toMatchFileSnapshot(snapshot('commands'));
  });

  it.each(paths.map((p) => [['fleetscan', ...p].join(' '), p] as const))(
    '%s --help prints what it printed before',
    async (name, path) => {
      await expect(await stdoutOf([...path, '--help'])).toMatchFileSnapshot(
        snapshot(name.replaceAll(' ', '-')),
      );
    },
  );

  it.each(['bash', 'zsh'] as const)(
    'completion %s prints what it printed before',
    async (shell) => {
      await expect(await stdoutOf(['completion', shell])).toMatchFileSnapshot(
        snapshot(`completion-${shell}`),
      );
    },
  );
});
