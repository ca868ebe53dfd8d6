import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { DEVICE_SCAN_COUNT } from '../../src/campaigns/device-scan.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import { archiveCampaign } from '../../src/retention/archive-campaign.js';
import { createArchiveIndex } from '../../src/retention/archive-index.js';
import { pruneCampaigns, type PruneDeps } from '../../src/retention/prune-campaigns.js';
import { createRedis, type Redis } from '../../src/shared/redis.js';
import { resetRedis, usedMemory, type BenchContext } from '../lib/context.js';
import { measureStalls, type StallReport } from '../lib/redis-stalls.js';
import { formatBytes, formatCount, formatMs, type ScenarioResult } from '../lib/report.js';

const WEEK = 7 * 86_400_000;

/** used_memory once Redis's lazyfree thread has freed what UNLINK handed it (at most 2 min). */
async function settledMemory(ctx: BenchContext): Promise<number> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const info = await ctx.admin.info('memory');
    if (/^lazyfree_pending_objects:0\r?$/m.test(info)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return usedMemory(ctx.admin);
}

function sizeFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}
const PREFIX = 'bench-retention';

interface WeekRow {
  week: number;
  campaignsInRedis: number;
  devicesInRedis: number;
  usedBytes: number;
  archived: number;
  sweepMs: number;
  stalls: StallReport;
  /** 1-minute load average after the sweep: the host is shared with other test runs. */
  loadAverage: number;
}

interface BatchRow {
  count: number;
  devices: number;
  ms: number;
  stalls: StallReport;
}

/**
 * One full HSCAN pass over a weekly campaign's device hash at each COUNT: what one read command
 * costs Redis at the old batch size (1,000) and at the one the code uses now.
 */
async function compareScanBatches(
  ctx: BenchContext,
  redis: Redis,
  key: string,
): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for (const count of [1_000, DEVICE_SCAN_COUNT]) {
    let devices = 0;
    let ms = 0;
    const { stalls } = await measureStalls(ctx.admin, ctx.redisUrl, async () => {
      const t0 = performance.now();
      let cursor = '0';
      do {
        const [next, flat] = await redis.hscan(key, cursor, 'COUNT', count);
        cursor = next;
        devices += flat.length / 2;
      } while (cursor !== '0');
      ms = performance.now() - t0;
    });
    rows.push({ count, devices, ms, stalls });
  }
  return rows;
}

/** Every device settled with an action, as a finished sweep leaves it (sent, then requested). */
async function seedThroughStore(store: RedisCampaignStore, devices: number, createdAt: number) {
  const id = await createWeekCampaign(store, createdAt);
  await store.openIntake(id);
  const CHUNK = 2_000;
  for (let start = 0; start < devices; start += CHUNK) {
    // Machine ids and action ids as random as real ones: the archive size depends on it.
    const ids = Array.from({ length: Math.min(CHUNK, devices - start) }, (_, i) =>
      createHash('sha1')
        .update(`${id}:${String(start + i)}`)
        .digest('hex'),
    );
    await store.addDevices(id, ids);
    await Promise.all(
      ids.map(async (machineId, i) => {
        await store.markSent(id, machineId, createdAt + start + i);
        await store.markRequested(
          id,
          machineId,
          {
            id: randomUUID(),
            status: 'Succeeded',
            creationDateTimeUtc: new Date(createdAt + start + i).toISOString(),
          },
          { joinedExisting: false, at: createdAt + start + i + 500 },
        );
      }),
    );
  }
  await store.closeIntake(id);
  return id;
}

async function createWeekCampaign(store: RedisCampaignStore, createdAt: number) {
  const id = newCampaignId(createdAt);
  await store.createCampaign({
    id,
    name: `weekly ${new Date(createdAt).toISOString().slice(0, 10)}`,
    scanType: 'Quick',
    comment: `weekly sweep [fleetscan:${id}]`,
    createdAt,
    createdBy: 'bench@host',
    source: 'file:fleet.csv',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  return id;
}

/**
 * The same fleet swept again: a new campaign whose device and count hashes are byte copies
 * (DUMP/RESTORE) of a campaign the store made, finished at `finishedAt`. Seeding 100,000 devices
 * through the store takes about a minute on a loaded 2-core host; a copy takes a moment.
 */
async function copyCampaign(
  redis: Redis,
  store: RedisCampaignStore,
  template: { devices: Buffer; counts: Buffer },
  createdAt: number,
  finishedAt: number,
) {
  const id = await createWeekCampaign(store, createdAt);
  const keys = campaignKeys(PREFIX, id);
  await redis.restore(keys.devices, 0, template.devices);
  await redis.restore(keys.counts, 0, template.counts);
  await redis.hset(keys.campaign, 'state', 'finished', 'finishedAt', String(finishedAt));
  return id;
}

/** A campaign of `factor` × the template's devices: its stored values under new machine ids. */
async function widenCampaign(
  redis: Redis,
  store: RedisCampaignStore,
  templateId: string,
  factor: number,
  createdAt: number,
) {
  const id = await createWeekCampaign(store, createdAt);
  const keys = campaignKeys(PREFIX, id);
  const from = campaignKeys(PREFIX, templateId);
  const records = Object.values(await redis.hgetall(from.devices));
  for (let copy = 0; copy < factor; copy++) {
    for (let start = 0; start < records.length; start += 1_000) {
      const fields = records.slice(start, start + 1_000).flatMap((json, i) => [
        createHash('sha1')
          .update(`${id}:${String(copy)}:${String(start + i)}`)
          .digest('hex'),
        json,
      ]);
      await redis.hset(keys.devices, ...fields);
    }
  }
  const counts = await redis.hgetall(from.counts);
  for (const [field, value] of Object.entries(counts)) {
    await redis.hset(keys.counts, field, String(Number(value) * factor));
  }
  await redis.hset(keys.campaign, 'state', 'finished', 'finishedAt', String(createdAt));
  return id;
}

/**
 * `bench retention`: a weekly sweep of the fleet for a year with `retention.keep` = 4 weeks. The
 * records are made directly through the store (no API, no queue) and each campaign's finishedAt
 * is set to its simulated week; the sweep is the production code path (`pruneCampaigns`).
 */
export async function retentionScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const smoke = ctx.options.smoke;
  // The sizes by default; the environment can shorten the year on a busy host
  // (the weeks after the first keep period all look alike) without changing the method.
  const perWeek = sizeFromEnv('BENCH_RETENTION_DEVICES', smoke ? 2_000 : 100_000);
  const weeks = sizeFromEnv('BENCH_RETENTION_WEEKS', smoke ? 8 : 52);
  const big = sizeFromEnv('BENCH_RETENTION_BIG', smoke ? 20_000 : 1_000_000);
  if (big % perWeek !== 0)
    throw new Error('BENCH_RETENTION_BIG must be a multiple of the weekly size');
  await resetRedis(ctx);
  const redis = createRedis(ctx.redisUrl, { connectionName: 'bench-retention' });
  const store = createCampaignStore(redis, PREFIX);
  const archiveDir = join(ctx.workDir, 'archives');
  mkdirSync(archiveDir, { recursive: true });
  const start = Date.UTC(2026, 0, 5);
  let now = start;
  const deps: PruneDeps = {
    redis,
    prefix: PREFIX,
    store,
    index: createArchiveIndex(redis, PREFIX),
    archiveDir,
    scanBatch: 1_000,
    now: () => now,
  };
  const rows: WeekRow[] = [];
  let archivedBytes = 0;
  let archivedDevices = 0;
  try {
    ctx.progress(`retention: one campaign of ${formatCount(perWeek)} devices through the store`);
    const templateId = await seedThroughStore(store, perWeek, start);
    const templateKeys = campaignKeys(PREFIX, templateId);
    const template = {
      devices: await redis.dumpBuffer(templateKeys.devices),
      counts: await redis.dumpBuffer(templateKeys.counts),
    };
    // The template itself is the first week's campaign.
    await redis.hset(templateKeys.campaign, 'finishedAt', String(start + 86_400_000));
    for (let week = 1; week <= weeks; week++) {
      now = start + (week - 1) * WEEK;
      if (week > 1) await copyCampaign(redis, store, template, now, now + 86_400_000);
      now += WEEK - 3_600_000; // the sweep before next week's campaign
      let sweepMs = 0;
      const { result, stalls } = await measureStalls(ctx.admin, ctx.redisUrl, async () => {
        const t0 = performance.now();
        const swept = await pruneCampaigns(deps, { olderThanMs: 4 * WEEK, dryRun: false });
        sweepMs = performance.now() - t0;
        return swept;
      });
      const failed = result.entries.filter((e) => e.outcome === 'failed');
      if (failed.length > 0) throw new Error(`sweep failed: ${failed[0]?.error ?? '?'}`);
      for (const entry of result.entries) {
        archivedBytes += entry.archive?.bytes ?? 0;
        archivedDevices += entry.archive?.devices ?? 0;
      }
      const live = await store.listCampaigns();
      rows.push({
        week,
        campaignsInRedis: live.length,
        devicesInRedis: live.reduce((sum, c) => sum + c.total, 0),
        usedBytes: await settledMemory(ctx),
        archived: result.entries.length,
        sweepMs,
        stalls,
        loadAverage: loadavg()[0] ?? 0,
      });
      ctx.progress(
        `retention: week ${week}/${weeks}: ${live.length} campaigns in Redis, ${formatBytes(rows.at(-1)?.usedBytes ?? 0)}, archived ${result.entries.length} in ${formatMs(sweepMs)}, longest PING ${stalls.pingMaxMs.toFixed(1)} ms, slowest command ${stalls.slowestCommandMs.toFixed(1)} ms`,
      );
    }
    ctx.progress('retention: one HSCAN pass at COUNT 1,000 and at the current batch size');
    const live = await store.listCampaigns();
    const batches =
      live[0] === undefined
        ? []
        : await compareScanBatches(ctx, redis, campaignKeys(PREFIX, live[0].id).devices);
    await resetRedis(ctx);
    rmSync(archiveDir, { recursive: true, force: true });
    ctx.progress(`retention: one campaign of ${formatCount(big)} devices`);
    now = start;
    const bigTemplate = await copyCampaign(redis, store, template, now, now);
    const bigId = await widenCampaign(redis, store, bigTemplate, big / perWeek, now);
    await redis.unlink(...Object.values(campaignKeys(PREFIX, bigTemplate)));
    await redis.zrem(`${PREFIX}:campaigns`, bigTemplate);
    const bigBytes = await usedMemory(ctx.admin);
    let writtenAt = 0;
    let t0 = 0;
    let totalMs = 0;
    const { result: bigResult, stalls: bigStalls } = await measureStalls(
      ctx.admin,
      ctx.redisUrl,
      async () => {
        t0 = performance.now();
        const archived = await archiveCampaign(
          {
            ...deps,
            faults: {
              afterMarked: () => {
                writtenAt = performance.now();
                return Promise.resolve();
              },
            },
          },
          bigId,
        );
        totalMs = performance.now() - t0;
        return archived;
      },
    );
    const afterBytes = await settledMemory(ctx);
    await resetRedis(ctx);
    return report({
      perWeek,
      weeks,
      rows,
      batches,
      loadAtEnd: loadavg()[0] ?? 0,
      archivedBytes,
      archivedDevices,
      big: {
        devices: big,
        writeMs: writtenAt - t0,
        deleteMs: totalMs - (writtenAt - t0),
        totalMs,
        bytes: bigResult.campaign.archived.bytes,
        redisBefore: bigBytes,
        redisAfter: afterBytes,
        stalls: bigStalls,
      },
    });
  } finally {
    redis.disconnect();
    rmSync(archiveDir, { recursive: true, force: true });
  }
}

interface BigRun {
  devices: number;
  writeMs: number;
  deleteMs: number;
  totalMs: number;
  bytes: number;
  redisBefore: number;
  redisAfter: number;
  stalls: StallReport;
}

function report(input: {
  perWeek: number;
  weeks: number;
  rows: WeekRow[];
  batches: BatchRow[];
  loadAtEnd: number;
  archivedBytes: number;
  archivedDevices: number;
  big: BigRun;
}): ScenarioResult {
  const { rows, big } = input;
  const steady = rows.slice(5).map((r) => r.usedBytes);
  const worstPing = Math.max(...rows.map((r) => r.stalls.pingMaxMs));
  const worstCommand = Math.max(...rows.map((r) => r.stalls.slowestCommandMs));
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return {
    scenario: 'retention',
    elapsedMs: 0,
    tables: [
      {
        title: `Redis memory after each weekly sweep: ${formatCount(input.perWeek)} devices a week, ${String(input.weeks)} weeks, retention.keep = 4 weeks`,
        columns: [
          'week',
          'campaigns in Redis',
          'devices in Redis',
          'Redis used_memory',
          'archived',
          'sweep',
          'longest PING',
          'slowest command',
          'HSCAN mean',
          'load average',
        ],
        rows: rows.map((r) => [
          r.week,
          r.campaignsInRedis,
          formatCount(r.devicesInRedis),
          formatBytes(r.usedBytes),
          r.archived,
          formatMs(r.sweepMs),
          ms(r.stalls.pingMaxMs),
          `${ms(r.stalls.slowestCommandMs)} ${r.stalls.slowestCommand}`,
          r.stalls.hscanCalls > 0 ? `${(r.stalls.hscanMeanMs * 1_000).toFixed(0)} µs` : '–',
          r.loadAverage.toFixed(1),
        ]),
      },
      {
        title: `One HSCAN pass over a ${formatCount(input.perWeek)}-device campaign, by COUNT (${String(DEVICE_SCAN_COUNT)} is what export, status and archive use now)`,
        columns: [
          'COUNT',
          'devices',
          'time',
          'HSCAN calls',
          'HSCAN mean',
          'slowest HSCAN',
          'longest PING',
          'PINGs over 5 ms',
        ],
        rows: input.batches.map((b) => [
          formatCount(b.count),
          formatCount(b.devices),
          formatMs(b.ms),
          formatCount(b.stalls.hscanCalls),
          `${(b.stalls.hscanMeanMs * 1_000).toFixed(0)} µs`,
          ms(b.stalls.slowestCommandMs),
          ms(b.stalls.pingMaxMs),
          `${formatCount(b.stalls.pingsOver5ms)} of ${formatCount(b.stalls.pings)}`,
        ]),
      },
      {
        title: 'Summary',
        columns: ['figure', 'value'],
        rows: [
          [
            'Redis used_memory from week 6 on (min – max)',
            steady.length > 0
              ? `${formatBytes(Math.min(...steady))} – ${formatBytes(Math.max(...steady))}`
              : '–',
          ],
          [
            'archive size per device',
            formatBytes(input.archivedBytes / Math.max(1, input.archivedDevices)),
          ],
          ['longest PING during any weekly sweep', ms(worstPing)],
          ['slowest Redis command during any weekly sweep', ms(worstCommand)],
          [`archive ${formatCount(big.devices)} devices: write + verify`, formatMs(big.writeMs)],
          [
            `archive ${formatCount(big.devices)} devices: remove from Redis`,
            formatMs(big.deleteMs),
          ],
          [`archive ${formatCount(big.devices)} devices: total`, formatMs(big.totalMs)],
          [
            'archive file, 1 campaign',
            `${formatBytes(big.bytes)} (${formatBytes(big.bytes / big.devices)}/device)`,
          ],
          [
            'Redis used_memory before → after',
            `${formatBytes(big.redisBefore)} → ${formatBytes(big.redisAfter)}`,
          ],
          ['longest PING while archiving it', ms(big.stalls.pingMaxMs)],
          [
            'PINGs over 5 ms while archiving it',
            `${formatCount(big.stalls.pingsOver5ms)} of ${formatCount(big.stalls.pings)}`,
          ],
          [
            'slowest Redis command while archiving it',
            `${ms(big.stalls.slowestCommandMs)} ${big.stalls.slowestCommand}`,
          ],
          ['Redis commands over 1 ms while archiving it', formatCount(big.stalls.commandsOver1ms)],
          [
            'HSCAN while archiving it: calls, mean',
            `${formatCount(big.stalls.hscanCalls)}, ${(big.stalls.hscanMeanMs * 1_000).toFixed(0)} µs`,
          ],
          [
            'host load average (1 min) after week 1 / at the end',
            `${(rows[0]?.loadAverage ?? 0).toFixed(1)} / ${input.loadAtEnd.toFixed(1)}`,
          ],
          ['five slowest Redis commands while archiving it', big.stalls.slowest5.join(', ')],
        ],
      },
    ],
    notes: [
      'Records are created directly through the campaign store (markSent + markRequested per device: the record a finished real campaign leaves), with no API and no queue, for one campaign of the weekly size; every other week is a byte copy of it (DUMP/RESTORE: the same fleet swept again) with its finishedAt set to its simulated week, and the sweep runs with that clock. The 1M-device campaign holds those stored values under 10× as many machine ids.',
      "The sweep is `pruneCampaigns`, the code path of `fleetscan prune`, `fleetscan archive` and the workers' automatic sweep: gzip NDJSON written to a temp file, fsynced, read back and verified, renamed; then the records are removed with UNLINK (freed on Redis's lazyfree thread; used_memory is read once lazyfree_pending_objects is 0).",
      `Redis reads on the archive, export and status path use HSCAN COUNT ${String(DEVICE_SCAN_COUNT)} (was 1,000) and host-name HMGETs of as many fields; the next HSCAN is sent while the current batch is written, so the smaller batches cost little wall time. "HSCAN mean" is INFO commandstats usec_per_call over the measured span: Redis's own execution time per call, which the OS descheduling Redis inflates less than the single slowest one.`,
      'The host is shared: other engineers run test suites on the same 2 cores throughout (load average in the table, 1-minute, read after each sweep), so Redis, the bench and the PING probe are all descheduled at times; single slow commands and long PINGs are mostly that, the means are the cost of the commands.',
      'Longest PING: a separate process PINGs back to back during the sweep; its worst round trip includes OS scheduling on the shared 2 cores, so it is an upper bound on how long Redis made anyone wait. Slowest command: SLOWLOG (threshold 100 µs), the execution time of the longest single command Redis ran in that time (from any client).',
    ],
    data: { ...input },
  };
}
