import type { Command } from 'commander';

// PLACEHOLDER: replaced by the owner of this command (see docs/design.md). Not done while this stands.
export function registerSimulateCommand(program: Command): void {
  program.command('simulate').description('(not built yet)');
}
