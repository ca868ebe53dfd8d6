import type { Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion-script.js';
import { UsageError } from '../errors.js';

const EXAMPLE = `
Examples:
  source <(fleetscan completion bash)                      # this shell; add it to ~/.bashrc to keep it
  fleetscan completion zsh > "\${fpath[1]}/_fleetscan"      # zsh, then start a new shell`;

/** `fleetscan completion bash|zsh`: prints a completion script made from the commands themselves. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('Print a shell completion script for fleetscan commands and options')
    .addHelpText('after', EXAMPLE)
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bashCompletion(program));
      else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
      else throw new UsageError(`completion: expected bash or zsh, got ${JSON.stringify(shell)}`);
    });
}
