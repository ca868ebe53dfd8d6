import type { Command } from 'commander';

// PLACEHOLDER: replaced by the owner of this command (see docs/design.md). Not done while this stands.
export function registerExportCommand(program: Command): void {
  program.command('export').description('(not built yet)');
}
