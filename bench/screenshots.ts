/**
 * `npm run screenshots`: the pictures of README and docs/, made from a real run. Two tenants on
 * two simulators (time ×50), one worker, campaigns of every class, a verified pilot, a kill-switch
 * drill and two schedules; the dashboard with `dashboard.auth: entra` against a third simulator
 * playing Entra ID (HTTPS, a test user holding FleetScan.Operator), signed in through its
 * authorize page as a person would; then the dashboard and the reports in Chromium
 * (playwright-core, `CHROMIUM` or /usr/bin/chromium). Writes docs/signin.png (the signed-out
 * landing page), docs/dashboard.png, docs/campaign.png, docs/report.png and
 * docs/report-cancelled.png. Needs Redis (`REDIS_URL`, default 127.0.0.1:6379); everything it
 * writes there is under a prefix of its own, removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { got } from 'got';
import { chromium, type Page } from 'playwright-core';
import type { Priority } from '../src/campaigns/campaign.js';
import { newCampaignId } from '../src/campaigns/campaign-id.js';
import { startDashboardServer } from '../src/runtime/dashboard-server.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { killSwitchFor } from '../src/runtime/kill-switch.js';
import { startHeartbeat, WORKER_HEARTBEAT_MS } from '../src/ops/worker-presence.js';
import { enqueueDevices } from '../src/producer/enqueue-devices.js';
import { decodeIntake, recordIntake } from '../src/reports/intake-record.js';
import { buildReportData } from '../src/reports/report-data.js';
import { renderHtml } from '../src/reports/render-html.js';
import { buildRuntime, type Runtime } from '../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../src/runtime/start-workers.js';
import { createScheduleStore } from '../src/schedules/schedule-store.js';
import type { ScheduleSpec } from '../src/schedules/schedule.js';
import { readCallTimeline } from '../src/metrics/call-timeline.js';
import { packageRoot } from '../src/shared/package-root.js';
import { buildSimulator, type Simulator } from '../src/simulator/build-simulator.js';
import {
  createLifecycleStore,
  decodeLifecycle,
  lifecycleKey,
} from '../src/tracking/lifecycle-store.js';
import { graphClientFromConfig } from '../src/runtime/hunting-from-config.js';
import { verifyCampaign } from '../src/hunting/verify-campaign.js';
import { tenantConfig } from '../src/cli/commands/shared/tenant-config.js';
import { systemClock } from '../src/shared/clock.js';
import { createSelfSignedCertificate } from '../src/simulator/tls.js';
import { trustingNetwork } from './lib/trusting-network.js';

const SCALE = 50;
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const docs = (name: string) => join(packageRoot(), 'docs', name);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 200 ms until it holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function startSim(seed: number, n: number, lifecycleMs: number): Promise<Simulator> {
  const sim = await buildSimulator({
    fleet: 1_400,
    seed,
    timeScale: SCALE,
    latencyMs: [2, 10],
    fleetMix: { offline: 0.02, busy: 0.03, unsupportedOs: 0.01 },
    evidence: { delayMs: [200, 1_500] },
    lifecycle: { pendingMs: lifecycleMs, inProgressMs: lifecycleMs * 4 },
    tenantId: `${String(n).repeat(8)}-0000-4000-8000-00000000d0c5`,
    clientId: `${String(n).repeat(8)}-0000-4000-8000-0000000a9900`,
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  return sim;
}

const urlOf = (sim: Simulator, scheme = 'http') => {
  const address = sim.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('simulator not listening');
  return `${scheme}://127.0.0.1:${String(address.port)}`;
};

/** The person on the pictures, signed in through the simulated Entra ID. */
const OPERATOR = {
  username: 'alice@contoso.example',
  displayName: 'Alice Wong',
  appRoles: ['FleetScan.Operator'],
};

/**
 * A simulator playing the dashboard's Entra ID: HTTPS (MSAL takes only an https login host) with
 * a certificate of its own, which the dashboard's sign-in trusts through `network`.
 */
async function startEntra() {
  const tls = await createSelfSignedCertificate();
  const sim = await buildSimulator({
    tls,
    fleet: 1,
    users: [OPERATOR],
    tenantId: '33333333-0000-4000-8000-00000000d0c5',
    clientId: '33333333-0000-4000-8000-0000000a9900',
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  const http = got.extend({
    https: { certificateAuthority: tls.cert },
    throwHttpErrors: false,
    followRedirect: false,
    retry: { limit: 0 },
    timeout: { request: 10_000 },
  });
  return { sim, url: urlOf(sim, 'https'), network: trustingNetwork(http) };
}

/** A free loopback port: the sign-in's redirect URI names the dashboard's port before it listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

interface EntraSettings {
  sim: Simulator;
  url: string;
  port: number;
}

function writeConfig(
  dir: string,
  sims: readonly Simulator[],
): { file: string; env: NodeJS.ProcessEnv } {
  const [contoso, fabrikam] = sims;
  if (!contoso || !fabrikam) throw new Error('two simulators expected');
  const lines = [
    'tenants:',
    '  - name: contoso',
    '    cloud: commercial',
    `    tenantId: ${contoso.credentials.tenantId}`,
    `    clientId: ${contoso.credentials.clientId}`,
    `    apiUrl: ${urlOf(contoso)}`,
    '    accessTokenEnv: SHOTS_TOKEN_CONTOSO',
    '  - name: fabrikam',
    '    cloud: gcc-high',
    `    tenantId: ${fabrikam.credentials.tenantId}`,
    `    clientId: ${fabrikam.credentials.clientId}`,
    `    apiUrl: ${urlOf(fabrikam)}`,
    '    accessTokenEnv: SHOTS_TOKEN_FABRIKAM',
  ];
  const file = join(dir, 'screenshots.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return {
    file,
    env: {
      SHOTS_TOKEN_CONTOSO: contoso.issueToken({ lifetimeSec: 3_600 }),
      SHOTS_TOKEN_FABRIKAM: fabrikam.issueToken({ lifetimeSec: 3_600 }),
    },
  };
}

function configFor(
  file: string,
  env: NodeJS.ProcessEnv,
  prefix: string,
  graph: Simulator,
  dir: string,
  entra: EntraSettings,
): Config {
  return loadConfig({
    file,
    env: { ...process.env, ...env, SHOTS_ENTRA_SECRET: entra.sim.credentials.clientSecret },
    overrides: {
      'redis.url': REDIS_URL,
      'redis.prefix': prefix,
      'redis.budgetPrefix': prefix,
      'limits.windows': `100/${String(60_000 / SCALE)}ms,1500/${String(3_600_000 / SCALE)}ms`,
      'limits.guard': '5ms',
      'limits.throttleDefault': `${String(60_000 / SCALE)}ms`,
      'limits.reserve': `10/${String(60_000 / SCALE)}ms,100/${String(3_600_000 / SCALE)}ms`,
      'scan.backoff': '50ms',
      'scan.pendingRetry': '300ms',
      'scan.pendingRetryCap': '1s',
      'scan.actionPoll': '500ms',
      'tracking.interval': '300ms',
      'tracking.lockTtl': '5s',
      // The pilot is verified by hand below; the drill stays unverified, as most cancelled ones do.
      'verify.enabled': false,
      'hunting.graphUrl': urlOf(graph),
      'hunting.accessToken': graph.issueToken({ resource: 'https://graph.microsoft.com' }),
      'hunting.windows': `45/${String(60_000 / SCALE)}ms`,
      'retention.archiveDir': join(dir, 'archives'),
      'retention.sweep': false,
      'dashboard.port': entra.port,
      'api.enabled': true,
      // Today's buttons (pause, cancel, retry, kill switch, New campaign) on the pictures.
      'dashboard.allowActions': true,
      // People sign in with Entra ID: the landing page's button, then the name in the header.
      'dashboard.auth': 'entra',
      'dashboard.entra.tenantId': entra.sim.credentials.tenantId,
      'dashboard.entra.clientId': entra.sim.credentials.clientId,
      'dashboard.entra.clientSecretEnv': 'SHOTS_ENTRA_SECRET',
      'dashboard.entra.authorityHost': entra.url,
      'dashboard.entra.redirectUri': `http://127.0.0.1:${String(entra.port)}/signin/callback`,
      'log.level': 'silent',
    },
  });
}

interface CampaignInput {
  name: string;
  tenant: string;
  priority: Priority;
  source: string;
  createdBy: string;
  ids: readonly string[];
  skipped?: Record<string, number>;
}

/** A campaign made as `fleetscan scan` makes one (record, lanes, intake counts). */
async function startCampaign(runtime: Runtime, input: CampaignInput): Promise<string> {
  const id = newCampaignId();
  await runtime.store.createCampaign({
    id,
    name: input.name,
    scanType: 'Quick',
    comment: `${input.name} [fleetscan:${id}]`,
    createdAt: Date.now(),
    createdBy: input.createdBy,
    source: input.source,
    tenant: input.tenant,
    priority: input.priority,
    window: null,
    schedule: null,
  });
  await enqueueDevices({
    lanes: runtime.lanes,
    store: runtime.store,
    campaign: id,
    ids: (async function* () {
      await Promise.resolve();
      yield input.ids;
    })(),
  });
  await recordIntake(runtime.redis, runtime.config.redis.prefix, id, input.skipped ?? {});
  return id;
}

function schedule(name: string, cron: string, tenant: string, priority: Priority): ScheduleSpec {
  return {
    name,
    cron,
    tz: 'Europe/Berlin',
    targets: {
      tags: name.includes('server') ? ['servers'] : [],
      group: name.includes('server') ? null : 'Workstations',
      query: null,
      devices: null,
      column: null,
      all: false,
      includeInactive: false,
    },
    scanType: 'Quick',
    comment: `${name} (scheduled)`,
    tenant,
    priority,
    overlap: 'skip',
    catchupMs: 3_600_000,
    window: null,
    jitterMs: 0,
    startAt: null,
    endAt: null,
    maxRuns: null,
  };
}

/** The report of one campaign, as `fleetscan report --format html` writes it, in Chromium. */
async function shootReport(page: Page, runtime: Runtime, id: string, dir: string, png: string) {
  const { config, redis } = runtime;
  const campaign = await runtime.store.getCampaign(id);
  if (!campaign) throw new Error(`no campaign ${id}`);
  const fields = await redis.hgetall(lifecycleKey(config.redis.prefix, id));
  const data = await buildReportData({
    campaign,
    lifecycle: decodeLifecycle(fields),
    skipped: decodeIntake(fields),
    devices: runtime.store.iterateDevices(id),
    windows: config.limits.windows,
    calls: await readCallTimeline(redis, config.redis.prefix, id),
    budgetScope: config.limits.budgetScope,
    nowMs: Date.now(),
  });
  const file = join(dir, `${id}.html`);
  writeFileSync(file, renderHtml(data));
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(pathToFileURL(file).href);
  await page.screenshot({ path: docs(png), fullPage: true });
  console.log(`wrote docs/${png}`);
}

async function removePrefix(runtime: Runtime, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await runtime.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await runtime.redis.unlink(...keys);
  } while (cursor !== '0');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-shots-'));
  const prefix = `shots-${randomBytes(4).toString('hex')}`;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    // contoso's scans end quickly (verified pilot); fabrikam's stay pending (kill-switch drill).
    const contoso = await startSim(3, 1, 5_000);
    const fabrikam = await startSim(4, 2, 3_600_000);
    closers.push(
      () => contoso.close(),
      () => fabrikam.close(),
    );
    const entra = await startEntra();
    closers.push(() => entra.sim.close());
    const { file, env } = writeConfig(dir, [contoso, fabrikam]);
    const config = configFor(file, env, prefix, contoso, dir, {
      sim: entra.sim,
      url: entra.url,
      port: await freePort(),
    });
    const runtime = await buildRuntime(config, { role: 'screenshots' });
    closers.push(async () => {
      await removePrefix(runtime, prefix);
      await runtime.close();
    });
    const heartbeat = startHeartbeat(
      runtime.redis,
      prefix,
      {
        host: hostname(),
        pid: process.pid,
        concurrency: 8,
        tenants: runtime.tenants.names,
        budgets: runtime.lanes.all().map((lane) => lane.budgetId),
        startedAt: Date.now(),
      },
      { intervalMs: WORKER_HEARTBEAT_MS },
    );
    closers.push(() => heartbeat.stop());
    const worker = startRuntimeWorker(runtime, { concurrency: 8, fireSchedules: false }, () => {
      heartbeat.noteJob();
    });
    closers.push(() => worker.close());
    const ids = (sim: Simulator) =>
      sim.machines.filter((m) => m.simulation.busyWithOtherScan !== true).map((m) => m.id);
    const [c, f] = [ids(contoso), ids(fabrikam)];

    const pilot = await startCampaign(runtime, {
      name: 'Pilot: IT laptops',
      tenant: 'contoso',
      priority: 'normal',
      source: 'group:IT Laptops',
      createdBy: 'alice@contoso.example',
      ids: c.slice(0, 60),
      skipped: { inactive: 4, 'unsupported-platform': 1 },
    });
    const lifecycle = async (id: string) =>
      decodeLifecycle(await runtime.redis.hgetall(lifecycleKey(prefix, id)));
    await until('the pilot to settle', async () => (await lifecycle(pilot)).settledAt !== null);
    await sleep(2_000); // the devices report their scans to advanced hunting
    const graph = graphClientFromConfig(
      tenantConfig(config, 'contoso'),
      runtime.redis,
      runtime.log,
    );
    closers.push(() => {
      graph.close();
      return Promise.resolve();
    });
    await verifyCampaign(
      {
        store: runtime.store,
        lifecycle: createLifecycleStore(runtime.redis, prefix),
        graph,
        clock: systemClock,
        log: runtime.log,
        chunkSize: config.hunting.chunkSize,
        graceMs: config.verify.findingsGrace,
      },
      pilot,
    );

    const drill = await startCampaign(runtime, {
      name: 'Kill switch drill',
      tenant: 'fabrikam',
      priority: 'normal',
      source: "query:osPlatform eq 'Windows10' tag:drill",
      createdBy: 'soc-oncall@fabrikam.example',
      ids: f.slice(0, 300),
      skipped: { inactive: 9, excluded: 2 },
    });
    await until('80 requests in the drill', async () => {
      const campaign = await runtime.store.getCampaign(drill);
      return (campaign?.counts.requested ?? 0) >= 80;
    });
    await killSwitchFor(runtime, 'the screenshot script')(drill);

    await startCampaign(runtime, {
      name: 'Weekly fleet sweep',
      tenant: 'contoso',
      priority: 'normal',
      source: 'all',
      createdBy: 'ops-automation@contoso.example',
      ids: c.slice(60, 1_260),
    });
    await startCampaign(runtime, {
      name: 'Nightly servers',
      tenant: 'fabrikam',
      priority: 'background',
      source: 'tag:servers',
      createdBy: 'schedule',
      ids: f.slice(300, 900),
    });
    const incident = await startCampaign(runtime, {
      name: 'Incident sweep: finance VLAN',
      tenant: 'contoso',
      priority: 'urgent',
      source: "query:contains(computerDnsName,'fin-')",
      createdBy: 'soc-oncall@contoso.example',
      ids: c.slice(1_260),
    });
    const schedules = createScheduleStore(runtime.redis, prefix);
    await schedules.put(
      schedule('weekly-workstations', '0 2 * * 1', 'contoso', 'normal'),
      Date.now(),
    );
    await schedules.put(
      schedule('nightly-servers', '30 1 * * *', 'fabrikam', 'background'),
      Date.now(),
    );

    const server = await startDashboardServer(config, { signInNetwork: entra.network });
    closers.push(() => server.close());
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    closers.push(() => browser.close());
    // The simulated Entra ID's certificate is self-signed; the dashboard is plain http on loopback.
    const context = await browser.newContext({
      viewport: { width: 1440, height: 1000 },
      ignoreHTTPSErrors: true,
    });
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: 'dark' });
    // Let the incident get going and the rates settle over a few polls.
    await until('the incident sweep under way', async () => {
      const campaign = await runtime.store.getCampaign(incident);
      return (campaign?.counts.requested ?? 0) >= 40;
    });
    // Signed out: the landing page and its button, then through Entra and back, signed in.
    await page.setViewportSize({ width: 1100, height: 560 });
    const landing = await page.goto(server.address);
    if (landing?.status() !== 401) throw new Error(`landing page: ${String(landing?.status())}`);
    await page.screenshot({ path: docs('signin.png') });
    console.log('wrote docs/signin.png');
    await page.setViewportSize({ width: 1440, height: 1000 });
    await page.click('a.btn-signin');
    await page.click(`button[name="username"][value="${OPERATOR.username}"]`);
    await page.waitForURL(`${server.address}/`);
    await page.waitForSelector('.who');
    await sleep(7_000);
    await page.screenshot({ path: docs('dashboard.png'), fullPage: true });
    console.log('wrote docs/dashboard.png');
    await page.goto(`${server.address}/campaigns/${drill}`);
    await page.waitForSelector('table.devices tbody tr');
    await page.screenshot({ path: docs('campaign.png'), fullPage: false });
    console.log('wrote docs/campaign.png');
    await page.goto(`${server.address}/queues`);
    await sleep(2_000);
    await page.screenshot({ path: join(dir, 'queues.png') });
    console.log(`queues (not in docs): ${join(dir, 'queues.png')}`);

    await shootReport(page, runtime, pilot, dir, 'report.png');
    await shootReport(page, runtime, drill, dir, 'report-cancelled.png');
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    if (process.env['KEEP_SHOTS_DIR'] === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
