#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { packageVersion } from '../shared/package-root.js';
import { registerCancelCommands } from './commands/cancel.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerExportCommand } from './commands/export.js';
import { registerPriorityCommand } from './commands/priority.js';
import { registerScanCommand } from './commands/scan.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTenantsCommand } from './commands/tenants.js';
import { registerWorkerCommand } from './commands/worker.js';
import { UsageError } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('fleetscan')
    .description(
      'Runs Microsoft Defender for Endpoint antivirus scans across whole fleets, within the API limits.',
    )
    .version(packageVersion())
    .option(
      '-c, --config <file>',
      'YAML file layered over config/default.yaml (or FLEETSCAN_CONFIG)',
    )
    .showHelpAfterError()
    .exitOverride();
  registerScanCommand(program);
  registerWorkerCommand(program);
  registerStatusCommand(program);
  registerExportCommand(program);
  registerCancelCommands(program);
  registerDemoCommand(program);
  registerSimulateCommand(program);
  registerDashboardCommand(program);
  registerPriorityCommand(program);
  registerTenantsCommand(program);
  return program;
}

/** Turns any failure into one clear line on stderr and a non-zero exit code. */
export function reportFailure(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has printed its own message (or the help / version text).
    return error.exitCode === 0 ? 0 : 1;
  }
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`fleetscan: ${error.message}\n`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`fleetscan: ${message}\n`);
  if (process.env['LOG_LEVEL'] === 'debug' && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
  return 1;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    process.exitCode = reportFailure(error);
  }
}

await main();
