import type { Command } from 'commander';

// PLACEHOLDER: replaced by the owner of this command (see docs/design.md). Not done while this stands.
export function registerStatusCommand(program: Command): void {
  program.command('status').description('(not built yet)');
}
