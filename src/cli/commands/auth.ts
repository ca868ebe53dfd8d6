import type { Command } from 'commander';

interface StatusOptions {
  tenant?: string;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan auth status
  fleetscan auth status --json | jq .expiresOn

Gets one token the way workers do (cache, then refresh) and shows who it is for, until when,
and its permissions. Never prints a token. Exit status 1 when no token can be had.`;

/** `fleetscan auth status`: which credential, who is signed in, token expiry and permissions. */
export function registerAuthCommand(program: Command): void {
  const auth = program.command('auth').description('Delegated and app credentials');
  auth
    .command('status')
    .description('Show the credential in use, the signed-in user and the token expiry')
    .option('--tenant <name>', 'tenant to show (today: default)')
    .option(
      '--json',
      'print { tenant, mode, credential, cachePath, user, ok, expiresOn, permissions, problem }',
    )
    .addHelpText('after', EXAMPLE)
    .action(async (options: StatusOptions, command: Command) => {
      const { configFor, printJson } = await import('../context.js');
      const { authStatus, renderAuthStatus } = await import('../../auth/auth-status.js');
      const { createLogger } = await import('../../shared/logger.js');
      const { tenantFor } = await import('./shared/tenant-option.js');
      const config = configFor(command);
      const tenant = tenantFor(config, options.tenant);
      const log = createLogger({
        level: config.log.level === 'debug' ? 'debug' : 'error',
        name: 'auth',
      });
      const status = await authStatus(tenant, log);
      if (options.json) printJson(status);
      else process.stdout.write(renderAuthStatus(status));
      process.exitCode = status.ok ? 0 : 1;
    });
}
