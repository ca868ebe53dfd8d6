// Thin entrypoint for the dashboard process: configuration from the environment (and
// FLEETSCAN_CONFIG), then the same server as `fleetscan dashboard`, until SIGTERM.
import { serveDashboard } from '../src/runtime/dashboard-server.js';
import { loadConfig } from '../src/config/load.js';
import { runScheduleNow } from '../src/cli/commands/schedule-trigger.js';

async function main(): Promise<void> {
  await serveDashboard(loadConfig(), { runSchedule: runScheduleNow });
}

main().catch((error: unknown) => {
  process.stderr.write(`dashboard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
