import type { Command } from 'commander';

interface LoginOptions {
  tenant?: string;
  json?: boolean;
}

const LOGIN_EXAMPLE = `
Examples:
  fleetscan login
  MDE_AUTH=delegated fleetscan worker      # workers then act as the signed-in user

Shows a code to enter at the sign-in page on any device; fleetscan waits until you have.
The app registration (MDE_CLIENT_ID) must allow public client flows and hold the delegated
permissions Machine.Scan (and Machine.Read.All for --query/--tag/--group and tracking).
Tokens go to a plaintext cache file with mode 0600 (FLEETSCAN_TOKEN_CACHE, default
~/.fleetscan/token-cache.json) that workers on this host share and refresh.`;

const LOGOUT_EXAMPLE = `
Example:
  fleetscan logout

Removes the signed-in account and its tokens from the cache file; workers using delegated
auth then hold the queue until someone runs fleetscan login again.`;

/** `fleetscan login` and `fleetscan logout`: delegated sign-in with a device code. */
export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description('Sign in as a user with a device code (delegated permissions)')
    .option('--tenant <name>', 'tenant to sign in to (today: default)')
    .option('--json', 'print { tenant, username, expiresOn, scopes, cachePath } when done')
    .addHelpText('after', LOGIN_EXAMPLE)
    .action(async (options: LoginOptions, command: Command) => {
      const { configFor, loggerFor, printJson } = await import('../context.js');
      const { createDelegatedClient } = await import('../../auth/delegated-client.js');
      const { loginWithDeviceCode } = await import('../../auth/device-code-login.js');
      const { tenantFor } = await import('./shared/tenant-option.js');
      const config = configFor(command);
      const tenant = tenantFor(config, options.tenant);
      const client = createDelegatedClient(tenant, loggerFor(config, 'login'));
      // The prompt goes to stderr so that stdout stays one JSON object with --json.
      const signedIn = await loginWithDeviceCode(client, (prompt) => {
        process.stderr.write(`${prompt.message}\n`);
      });
      if (options.json) {
        printJson({ ...signedIn, cachePath: client.cachePath });
        return;
      }
      process.stdout.write(
        `Signed in as ${signedIn.username} (tenant ${signedIn.tenant}).\n` +
          `Token cache: ${client.cachePath} (plaintext, mode 0600)\n` +
          (config.defender.auth === 'delegated'
            ? ''
            : 'Workers use these tokens once MDE_AUTH=delegated (defender.auth: delegated) is set.\n'),
      );
    });

  program
    .command('logout')
    .description('Sign out: remove the signed-in account and its tokens from the cache')
    .option('--tenant <name>', 'tenant to sign out of (today: default)')
    .option('--json', 'print { tenant, signedOut: [usernames] }')
    .addHelpText('after', LOGOUT_EXAMPLE)
    .action(async (options: LoginOptions, command: Command) => {
      const { configFor, loggerFor, printJson } = await import('../context.js');
      const { createDelegatedClient } = await import('../../auth/delegated-client.js');
      const { logout } = await import('../../auth/device-code-login.js');
      const { tenantFor } = await import('./shared/tenant-option.js');
      const config = configFor(command);
      const tenant = tenantFor(config, options.tenant);
      const removed = await logout(createDelegatedClient(tenant, loggerFor(config, 'logout')));
      if (options.json) {
        printJson({ tenant: tenant.name, signedOut: removed });
        return;
      }
      process.stdout.write(
        removed.length > 0
          ? `Signed out ${removed.join(', ')} (tenant ${tenant.name}).\n`
          : `Nobody was signed in (tenant ${tenant.name}).\n`,
      );
    });
}
