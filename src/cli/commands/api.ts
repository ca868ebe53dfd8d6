import type { Command } from 'commander';
import { UsageError } from '../errors.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new UsageError(`--port: expected 0-65535, got ${value}`);
  return port;
}

interface ApiOptions {
  port?: number;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureBind?: boolean;
}

/** `fleetscan api`: the automation API alone, with its webhook watcher and deliveries. */
export function registerApiCommand(program: Command): void {
  program
    .command('api')
    .description('Serve the automation API (/api/v1) for playbooks, and deliver its webhooks')
    .option('-p, --port <port>', 'port to listen on (default from config: 3100)', parsePort)
    .option('--host <address>', 'address to bind (default 127.0.0.1; others need TLS)')
    .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS only (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--insecure-bind', 'allow a non-loopback --host without TLS (a TLS proxy in front)')
    .addHelpText(
      'after',
      `
Examples:
  $ fleetscan token create --name soar --scope write      # prints the token once
  $ fleetscan api --host 0.0.0.0 --port 3100 --tls-cert cert.pem --tls-key key.pem
  $ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3100/api/v1/campaigns

Every request needs an API token; the OpenAPI document is at /api/v1/openapi.json.
The dashboard serves the same API under /api/v1 unless api.enabled is false. See docs/automation.md.`,
    )
    .action(async (options: ApiOptions, command: Command) => {
      const { configFor } = await import('../context.js');
      const { startApiServer } = await import('../../runtime/serve-api.js');
      const config = configFor(command, {
        'api.port': options.port,
        'api.host': options.host,
        'api.tlsCert': options.tlsCert,
        'api.tlsKey': options.tlsKey,
        'api.insecureBind': options.insecureBind,
      });
      const server = await startApiServer(config);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void server.close().finally(resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
