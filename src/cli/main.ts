#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { versionText } from '../shared/build-info.js';
import { registerApiCommand } from './commands/api.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerAuthCommand } from './commands/auth.js';
import { registerArchiveCommand } from './commands/archive.js';
import { registerCancelCommands } from './commands/cancel.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerHealthcheckCommand } from './commands/healthcheck.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerExportCommand } from './commands/export.js';
import { registerRetryCommand } from './commands/retry.js';
import { registerLoginCommands } from './commands/login.js';
import { registerPruneCommand } from './commands/prune.js';
import { registerPriorityCommand } from './commands/priority.js';
import { registerScanCommand } from './commands/scan.js';
import { registerScheduleCommands } from './commands/schedule.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTokenCommand } from './commands/token.js';
import { registerReportCommand } from './commands/report.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerTenantsCommand } from './commands/tenants.js';
import { registerWorkerCommand } from './commands/worker.js';
import { usageFailureJson } from './errors.js';

/** `--json` anywhere on the command line: failures are then one JSON object on stdout too. */
const wantsJson = (argv: readonly string[]) => argv.includes('--json');

export function buildProgram(argv: readonly string[] = process.argv): Command {
  const json = wantsJson(argv);
  const program = new Command('fleetscan')
    .description(
      'Runs Microsoft Defender for Endpoint antivirus scans across whole fleets, within the API limits.',
    )
    .version(versionText())
    .option(
      '-c, --config <file>',
      'YAML file layered over config/default.yaml (or FLEETSCAN_CONFIG)',
    )
    .option(
      '--log-format <format>',
      'log lines: auto (readable on a terminal, JSON otherwise), json or pretty (or LOG_FORMAT)',
    )
    .showHelpAfterError(json ? false : '(add --help for usage and examples)')
    .configureOutput({
      outputError: (text, write) => {
        if (json) process.stdout.write(`${JSON.stringify(usageFailureJson(text), null, 2)}\n`);
        else write(text);
      },
    })
    .exitOverride();
  registerScanCommand(program);
  registerWorkerCommand(program);
  registerStatusCommand(program);
  registerExportCommand(program);
  registerCancelCommands(program);
  registerVerifyCommand(program);
  registerReportCommand(program);
  registerDemoCommand(program);
  registerSimulateCommand(program);
  registerDashboardCommand(program);
  registerApiCommand(program);
  registerTokenCommand(program);
  registerAuditCommand(program);
  registerRetryCommand(program);
  registerDoctorCommand(program);
  registerHealthcheckCommand(program);
  registerMigrateCommand(program);
  registerLoginCommands(program);
  registerAuthCommand(program);
  registerArchiveCommand(program);
  registerPruneCommand(program);
  registerCompletionCommand(program);
  registerScheduleCommands(program);
  registerPriorityCommand(program);
  registerTenantsCommand(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    // commander has printed its own message (or the help / version text) through configureOutput.
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 1;
      return;
    }
    // Loaded on failure only: it knows the config and Redis errors, so it loads their modules.
    const { reportFailure } = await import('./report-failure.js');
    process.exitCode = reportFailure(error, {
      json: wantsJson(process.argv),
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      debug: process.env['LOG_LEVEL'] === 'debug',
    });
  }
}

// Run only as the program itself (also through npm's bin symlink), not when a test imports it.
const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === self) await main();
