import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion, zshCompletion } from '../../../src/cli/completion-script.js';
import { buildProgram } from '../../../src/cli/main.js';

const program = buildProgram(['node', 'fleetscan']);
const script = bashCompletion(program);

/** What bash offers after typing `line` and pressing Tab (the cursor at the end). */
function complete(line: string): string[] {
  const words = line.split(' ');
  const run = spawnSync(
    'bash',
    [
      '-c',
      `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${String(words.length - 1)}; _fleetscan_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((w) => w !== '');
}

describe('fleetscan completion', () => {
  it.each([
    ['fleetscan st', ['status']],
    ['fleetscan comp', ['completion']],
    ['fleetscan status --st', ['--state']],
    ['fleetscan status --state r', ['running']],
    ['fleetscan --config my.yaml status --ex', ['--exit-status']],
    ['fleetscan scan --scan-type ', ['Quick', 'Full']],
    ['fleetscan export c-1 --format nd', ['ndjson']],
    ['fleetscan --log-format j', ['json']],
  ])('bash completes %j to %j', (line, expected) => {
    expect(complete(line)).toEqual(expected);
  });

  it('offers every command in bash and zsh', () => {
    const zsh = zshCompletion(program);
    expect(zsh.startsWith('#compdef fleetscan\n')).toBe(true);
    for (const command of program.commands) {
      expect(script).toContain(`    ${command.name()}) words="`);
      expect(zsh).toContain(`    '${command.name()}:`);
      expect(zsh).toContain(`      ${command.name()}) _arguments `);
    }
    expect(zsh).toContain("'--state[");
    expect(zsh).toContain(':state:(running paused finished cancelled)');
  });
});
