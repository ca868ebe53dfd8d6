import type { Command } from 'commander';

// PLACEHOLDER: replaced by the owner of this command (see docs/design.md). Not done while this stands.
export function registerCancelCommands(program: Command): void {
  program.command('cancel').description('(not built yet)');
}
