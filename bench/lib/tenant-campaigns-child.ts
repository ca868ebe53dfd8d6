/**
 * Starts one campaign per tenant through `startCampaign` (the path behind `fleetscan scan` and
 * the automation API), in a process of its own: the simulators live in the bench process, and
 * an enqueue running there would delay their replies while the first tenants already run.
 * Run as a child with the workers' environment: `node tenant-campaigns-child.js <plan.json>`,
 * plan = `[{ "tenant": name, "ids": [...] }]`; prints `started <tenant> <campaignId>` per
 * campaign, in plan order, then `done <ms>`.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { listScanSource } from '../../src/control/scan-sources.js';
import { startCampaign } from '../../src/control/start-campaign.js';
import { openSession } from '../../src/cli/commands/shared/session.js';

interface PlannedCampaign {
  tenant: string;
  ids: string[];
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tenant-campaigns-child <plan.json>');
  const plan = JSON.parse(readFileSync(file, 'utf8')) as PlannedCampaign[];
  const session = await openSession(loadConfig({ env: process.env }));
  const started = performance.now();
  try {
    for (const { tenant, ids } of plan) {
      const result = await startCampaign(
        { store: session.store, lanes: session.lanes },
        {
          source: listScanSource(ids, `bench:${tenant}`),
          scanType: 'Quick',
          comment: 'fleetscan bench tenants',
          name: `bench ${tenant}`,
          createdBy: 'bench',
          tenant,
        },
      );
      process.stdout.write(`started ${tenant} ${result.campaign.id}\n`);
    }
  } finally {
    await session.close();
  }
  process.stdout.write(`done ${String(Math.round(performance.now() - started))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
