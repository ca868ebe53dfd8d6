import { Redis } from 'ioredis';
import { startRedisServer } from '../../src/shared/redis-server.js';
import { CAMPAIGN_COLUMNS, campaignRow } from '../lib/campaign-table.js';
import type { BenchContext } from '../lib/context.js';
import type { CampaignRun, CampaignSpec } from '../lib/fleetscan-campaign.js';
import { runHostsCampaign } from '../lib/hosts-campaign.js';
import { formatRatio, type ScenarioResult } from '../lib/report.js';
import { createVirtualNetwork } from '../lib/virtual-hosts.js';

/** Host 0 runs the one-host campaign; all three the three-host one (issue 15's ±30 s). */
const CLOCK_OFFSETS_SEC = [0, 25, -30] as const;
const WORKERS_PER_HOST = 2;
/** As the efficiency scenario: two workers × 8 places cannot fill a compressed window. */
const CONCURRENCY = 32;

function specs(ctx: BenchContext): CampaignSpec[] {
  const concurrency = CONCURRENCY;
  if (ctx.options.smoke) return [{ devices: 150, busyShare: 0, factor: 100, concurrency }];
  return [
    { devices: 400, busyShare: 0, factor: 10, concurrency },
    { devices: 1_500, busyShare: 0, factor: 100, concurrency },
  ];
}

/**
 * Issue 15's "efficiency within 2 % of the same campaign on one host": the same campaign with
 * its workers on one host, then spread over three hosts (network namespaces, clocks 0, +25 s
 * and −30 s), both against one Redis and the simulator across a virtual network. Needs root.
 */
export async function hostsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const network = createVirtualNetwork(CLOCK_OFFSETS_SEC);
  // Ctrl-C ends the bench with process.exit: take the namespaces and links away even then.
  const destroy = () => {
    network.destroy();
  };
  process.once('exit', destroy);
  const redis = await startRedisServer({ host: network.redisGateway }).catch((error: unknown) => {
    destroy();
    throw error;
  });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  const pairs: { one: CampaignRun; three: CampaignRun }[] = [];
  try {
    for (const spec of specs(ctx)) {
      const run = async (hosts: typeof network.hosts, label: string) => {
        ctx.progress(`hosts: ${spec.devices} devices ×${spec.factor}, ${label}`);
        await admin.flushall('SYNC');
        const result = await runHostsCampaign(
          ctx,
          network,
          { url: redis.url, admin },
          { spec, hosts, perHost: WORKERS_PER_HOST, label },
        );
        ctx.progress(
          `  floor/span ${formatRatio(result.efficiency)}, 429s ${result.calls.throttled}`,
        );
        return result;
      };
      const one = await run(network.hosts.slice(0, 1), '1 host × 2 workers');
      const three = await run(network.hosts, '3 hosts × 2 workers, clocks 0, +25 s, −30 s');
      pairs.push({ one, three });
    }
  } finally {
    admin.disconnect();
    await redis.stop();
    destroy();
    process.removeListener('exit', destroy);
  }
  return {
    scenario: 'hosts',
    elapsedMs: 0,
    tables: [
      {
        title:
          'One budget across hosts: 3 hosts against 1 (same campaign, same Redis, same network)',
        columns: [
          'devices',
          'time',
          'floor/span, 1 host',
          'floor/span, 3 hosts',
          '3 hosts / 1 host',
          '429s (1 / 3)',
          'max in 60 s (1 / 3)',
          'duplicates (1 / 3)',
        ],
        rows: pairs.map(({ one, three }) => [
          one.spec.devices,
          `×${one.spec.factor}`,
          formatRatio(one.efficiency),
          formatRatio(three.efficiency),
          one.efficiency && three.efficiency ? (three.efficiency / one.efficiency).toFixed(3) : '–',
          `${one.calls.throttled} / ${three.calls.throttled}`,
          `${one.calls.maxInWindow[0] ?? '–'} / ${three.calls.maxInWindow[0] ?? '–'}`,
          `${one.calls.duplicateDevices} / ${three.calls.duplicateDevices}`,
        ]),
      },
      {
        title: 'Each run in full',
        columns: CAMPAIGN_COLUMNS,
        rows: pairs.flatMap(({ one, three }) => [campaignRow(one), campaignRow(three)]),
      },
    ],
    notes: [
      'Hosts are network namespaces on this machine, each with a veth into a bridge for Redis and one for the API; Redis (its own redis-server) and the simulator listen on the bridges. Every worker runs under libfaketime (LD_PRELOAD, wall clock only: FAKETIME_DONT_FAKE_MONOTONIC=1), host 0 at +0 s, hosts 1 and 2 at +25 s and −30 s; the one-host run uses host 0 alone.',
      `Each host runs ${WORKERS_PER_HOST} \`fleetscan worker\` processes × ${CONCURRENCY} places, configured as in the efficiency scenario (production defaults divided by the time factor, reserve 0); \`fleetscan scan\` runs in the root namespace.`,
      '"3 hosts / 1 host" is the ratio of the two efficiencies (floor/span, as in the efficiency scenario); issue 15 asks for ≥ 0.98. All processes share the machine\'s cores, so three hosts mean three times the worker processes on the same CPUs: on a loaded host that, not the network, is what the ratio measures.',
    ],
    data: pairs,
  };
}
