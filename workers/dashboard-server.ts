// Thin entrypoint for the dashboard process: configuration from the environment (and
// FLEETSCAN_CONFIG), then the same server as `fleetscan dashboard`, until SIGTERM.
import { serveDashboard } from '../src/runtime/dashboard-server.js';
import { loadConfig } from '../src/config/load.js';

async function main(): Promise<void> {
  await serveDashboard(loadConfig());
}

main().catch((error: unknown) => {
  process.stderr.write(`dashboard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
