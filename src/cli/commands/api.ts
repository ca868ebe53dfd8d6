import type { Command } from 'commander';
import { startApiServer } from '../../api/serve-api.js';
import { configFor } from '../context.js';
import { UsageError } from '../errors.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new UsageError(`--port: expected 0-65535, got ${value}`);
  return port;
}

/** `fleetscan api`: the automation API alone, with its webhook watcher and deliveries. */
export function registerApiCommand(program: Command): void {
  program
    .command('api')
    .description('Serve the automation API (/api/v1) for playbooks, and deliver its webhooks')
    .option('-p, --port <port>', 'port to listen on (default from config: 3100)', parsePort)
    .option('--host <address>', 'address to bind (default 127.0.0.1)')
    .addHelpText(
      'after',
      `
Examples:
  $ fleetscan token create --name soar --scope write      # prints the token once
  $ fleetscan api --host 0.0.0.0 --port 3100
  $ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3100/api/v1/campaigns

Every request needs an API token; the OpenAPI document is at /api/v1/openapi.json.
The dashboard serves the same API under /api/v1 unless api.enabled is false. See docs/automation.md.`,
    )
    .action(async (options: { port?: number; host?: string }, command: Command) => {
      const config = configFor(command, { 'api.port': options.port, 'api.host': options.host });
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
