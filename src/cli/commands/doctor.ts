import type { Command } from 'commander';
import type { CheckResult } from '../../ops/doctor/check-result.js';
import type { GlobalOptions } from '../context.js';

interface DoctorOptions {
  tenant?: string;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan doctor
  fleetscan doctor --tenant default --json | jq '.checks[] | select(.status != "ok")'

One line per check (✔ ok, ⚠ warning, ✖ failure), and under every ⚠ and ✖ the fix.
Exit status 1 when any check failed. Makes one List Machines call ($top=1) per tenant,
taken from the shared budget like every other call.`;

/** `fleetscan doctor`: configuration, Redis, and each tenant's token, permissions, API, budget. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Check the setup: configuration, Redis, credentials, permissions, API, budget')
    .option('--tenant <name>', 'check only this tenant (today: default)')
    .option('--json', 'print { ok, checks: [{ group, id, status, summary, fix?, tenant? }] }')
    .addHelpText('after', EXAMPLE)
    .action(async (options: DoctorOptions, command: Command) => {
      const { printJson } = await import('../context.js');
      const { createLogger } = await import('../../shared/logger.js');
      const { doctorExitCode, renderDoctor } = await import('../../ops/doctor/render-doctor.js');
      const { runDoctor } = await import('../../runtime/run-doctor.js');
      const { tenantsFor } = await import('./shared/tenant-option.js');
      const globals = command.optsWithGlobals<GlobalOptions>();
      const results: CheckResult[] = await runDoctor({
        file: globals.config,
        env: process.env,
        tenants: (config) => tenantsFor(config, options.tenant),
        // Warnings of the parts doctor runs (MSAL, the limiter) would only repeat its own lines.
        log: (config) =>
          createLogger({ level: config.log.level === 'debug' ? 'debug' : 'error', name: 'doctor' }),
      });
      const code = doctorExitCode(results);
      if (options.json) printJson({ ok: code === 0, checks: results });
      else process.stdout.write(renderDoctor(results));
      process.exitCode = code;
    });
}
