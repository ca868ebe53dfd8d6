import { loadConfig } from '../src/config/load.js';
import { runScanWorker, workerSettingsFrom } from '../src/runtime/run-scan-worker.js';

/**
 * Thin entrypoint for process managers (systemd, containers): configuration from the environment
 * and FLEETSCAN_CONFIG only. `fleetscan worker` does the same with flags.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  await runScanWorker(config, workerSettingsFrom(config));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fleetscan worker: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
