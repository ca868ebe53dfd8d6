import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface DashboardOptions {
  port?: number;
  host?: string;
  allowActions?: boolean;
  hashPassword?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  insecureBind?: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new UsageError(`--port: expected 0-65535, got ${value}`);
  return port;
}

/**
 * `fleetscan dashboard`: the options and help here; the server is wired in
 * runtime/dashboard-server.ts, loaded only when the command runs.
 */
export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description(
      'Serve the ops dashboard: campaigns, API budget, queues, /metrics, /healthz, /readyz.',
    )
    .option('-p, --port <port>', 'port to listen on (default from config: 3000)', parsePort)
    .option('--host <address>', 'address to bind (default 127.0.0.1; others need credentials)')
    .option('--allow-actions', 'enable pause/resume/cancel buttons and a writable queue board')
    .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS only (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--insecure-bind', 'allow a non-loopback --host without TLS (a TLS proxy in front)')
    .option('--hash-password', 'print a scrypt hash for FLEETSCAN_DASHBOARD_PASSWORD_HASH and exit')
    .addHelpText(
      'after',
      `
Examples:
  $ fleetscan dashboard --port 3000
  $ FLEETSCAN_DASHBOARD_TOKEN=$(openssl rand -hex 32) fleetscan dashboard --host 0.0.0.0 \
      --tls-cert cert.pem --tls-key key.pem
  $ fleetscan dashboard --hash-password        # then set FLEETSCAN_DASHBOARD_USER and _PASSWORD_HASH

Without credentials the dashboard binds to loopback only; off loopback it also needs TLS
(or --insecure-bind behind a TLS-terminating proxy). The token needs 32 characters or more. Send "Authorization: Bearer <token>",
or log in with the configured user and password (or any user and the token) in a browser.`,
    )
    .action(async (options: DashboardOptions, command: Command) => {
      if (options.hashPassword) {
        const { readNewPassword } = await import('../../dashboard/read-password.js');
        const { hashPassword } = await import('../../dashboard/auth.js');
        const password = await readNewPassword();
        if (password.length < 8) throw new UsageError('the password needs at least 8 characters');
        process.stdout.write(`${await hashPassword(password)}\n`);
        return;
      }
      const { configFor } = await import('../context.js');
      const { serveDashboard, DashboardBindError } =
        await import('../../runtime/dashboard-server.js');
      const { runScheduleNow } = await import('./schedule-trigger.js');
      const config = configFor(command, {
        'dashboard.port': options.port,
        'dashboard.host': options.host,
        'dashboard.allowActions': options.allowActions,
        'dashboard.tlsCert': options.tlsCert,
        'dashboard.tlsKey': options.tlsKey,
        'dashboard.insecureBind': options.insecureBind,
      });
      try {
        await serveDashboard(config, { runSchedule: runScheduleNow });
      } catch (error) {
        // A refused bind address is the person's setting to change: said as is, no stack trace.
        if (error instanceof DashboardBindError) throw new UsageError(error.message);
        throw error;
      }
    });
}
