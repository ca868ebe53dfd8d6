import { afterEach, describe, expect, it } from 'vitest';
import { CreatedCampaignSchema } from '../../src/api/campaign-schemas.js';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import { graphClientFromConfig } from '../../src/runtime/hunting-from-config.js';
import { verifyCampaign } from '../../src/hunting/verify-campaign.js';
import { verifyDepsFromConfig } from '../../src/runtime/verify-from-config.js';
import type { PlannedDetection } from '../../src/simulator/detections.js';
import { createLifecycleStore } from '../../src/tracking/lifecycle-store.js';
import { eventually, startApiFixture } from './api-fixture.js';
import { startReceiver } from './webhook-receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const healthy = { busy: 0, offline: 0, inactive: 0, unsupportedOs: 0, excluded: 0, duplicate: 0 };

/** What verify should have recorded for a device: its requested scan's detections, nothing else. */
function truthOf(detections: readonly PlannedDetection[]) {
  const alerts = new Map(
    detections.flatMap((d) => (d.alert ? [[d.alert.id, d.alert.title] as const] : [])),
  );
  return {
    count: detections.length,
    names: [...new Set(detections.map((d) => d.threatName))].sort(),
    unremediated: detections.filter((d) => !d.remediated).length,
    alerts: alerts.size,
    alertTitles: [...new Set(alerts.values())].sort(),
  };
}

describe('findings after the scan', () => {
  it('gives every device of a 160-device campaign exactly the threats its scan found, and one signed threats-found per device', async () => {
    const t = await startApiFixture({
      sim: {
        fleet: 160,
        fleetMix: healthy,
        // Every scan reports, 0.6-6 s after delivery (time scale 100).
        evidence: { completedRate: 1, cancelledRate: 0, failedRate: 0, delayMs: [60_000, 600_000] },
        detections: {
          share: 0.3,
          remediatedShare: 0.5,
          alertShare: 0.7,
          noiseShare: 0.5,
          quietMs: 15 * 60_000, // 9 s scaled: the late noise comes 9-18 s after each scan
        },
        // Defender's own scans every 20 s on 30 % of the devices, some finding something.
        scheduledScans: { share: 0.3, everyMs: 20_000, fullShare: 0.3 },
      },
      overrides: {
        'verify.enabled': true,
        'verify.findingsGrace': '8s',
        'tracking.interval': '300ms',
        'hunting.windows': '45/600ms',
        'hunting.chunkSize': 50,
      },
      overridesFor: ({ sim, url }) => ({
        'hunting.graphUrl': url,
        'hunting.accessToken': sim.issueToken({ resource: 'https://graph.microsoft.com' }),
      }),
      worker: false,
    });
    cleanups.push(() => t.close());
    const secrets: Record<string, string> = {};
    const receiver = await startReceiver(() => secrets);
    cleanups.push(() => receiver.close());
    const token = await t.token(['write']);
    const sub = await t.call('POST', '/webhooks', {
      token,
      body: { url: `${receiver.url}/hook`, events: ['campaign.threats-found', 'campaign.settled'] },
    });
    expect(sub.status).toBe(201);
    const subscription = sub.json as { subscription: { id: string }; secret: string };
    secrets['/hook'] = subscription.secret;

    const ids = t.sim.machines.map((m) => m.id);
    const started = await t.call('POST', '/campaigns', {
      token,
      body: { devices: ids, comment: 'incident drill', priority: 'urgent' },
    });
    expect(started.status).toBe(201);
    const campaignId = CreatedCampaignSchema.parse(started.json).campaign.id;
    const since = Date.now();
    t.startWorker();

    // Settled, verified, and verified again after the grace (the last scans' events are in).
    const lifecycle = createLifecycleStore(t.runtime.redis, t.runtime.config.redis.prefix);
    await eventually(
      async () => {
        const life = await lifecycle.get(campaignId);
        return life.settledAt !== null &&
          life.verifiedAt !== null &&
          life.verifiedAt >= life.settledAt + 8_000
          ? life
          : undefined;
      },
      () => 'the campaign was not verified a second time after the grace',
      90_000,
    );

    const check = async () => {
      const devices: DeviceRecord[] = [];
      for await (const d of t.runtime.store.iterateDevices(campaignId)) devices.push(d);
      expect(devices).toHaveLength(160);
      const all = t.sim.detections(since - 60_000);
      const wrong = devices.filter((d) => {
        const truth = truthOf(all.filter((x) => x.machineId === d.machineId && x.cause === 'scan'));
        const got = d.threats;
        return (
          got === null ||
          got === undefined ||
          got.count !== truth.count ||
          got.unremediated !== truth.unremediated ||
          got.alerts !== truth.alerts ||
          JSON.stringify(got.names) !== JSON.stringify(truth.names) ||
          JSON.stringify(got.alertTitles) !== JSON.stringify(truth.alertTitles)
        );
      });
      expect(wrong.map((d) => ({ id: d.machineId, threats: d.threats }))).toEqual([]);
      return { devices, all };
    };
    const first = await check();
    const found = first.devices.filter((d) => (d.threats?.count ?? 0) > 0);
    // Enough of every kind for the comparison to mean something.
    expect(found.length).toBeGreaterThan(20);
    expect(found.some((d) => (d.threats?.unremediated ?? 0) > 0)).toBe(true);
    expect(found.some((d) => d.threats?.unremediated === 0)).toBe(true);
    expect(found.some((d) => (d.threats?.alerts ?? 0) > 0)).toBe(true);
    const life = await lifecycle.get(campaignId);
    expect(life.findings).toMatchObject({ devices: found.length, checked: 160 });

    // Wait for the noise after the scans (real-time detections 9-18 s later), then run verify
    // again in a new "process": it is ignored, and no device is announced twice.
    const lastEvidence = Math.max(...t.sim.actions().map((a) => a.evidence?.atMs ?? 0));
    await eventually(
      () => Promise.resolve(t.sim.now() > lastEvidence + 18_500 ? true : undefined),
      () => 'the late noise did not arrive',
      60_000,
    );
    const graph = graphClientFromConfig(t.runtime.config, t.runtime.redis, t.runtime.log);
    cleanups.push(() => {
      graph.close();
      return Promise.resolve();
    });
    const summary = await verifyCampaign(
      verifyDepsFromConfig(t.runtime.config, {
        redis: t.runtime.redis,
        store: t.runtime.store,
        graph,
        clock: t.runtime.clock,
        log: t.runtime.log,
      }),
      campaignId,
    );
    expect(summary.findings.devices).toBe(found.length);
    const again = await check();
    const noise = again.all.filter(
      (d) => d.cause !== 'scan' && d.atMs >= since && ids.includes(d.machineId),
    );
    expect(noise.filter((d) => d.cause === 'realtime').length).toBeGreaterThan(0);

    // One signed campaign.threats-found per device with a detection, however many runs saw it.
    await eventually(
      () =>
        Promise.resolve(
          receiver.firstSeen.filter((e) => e.type === 'campaign.threats-found').length >=
            found.length
            ? true
            : undefined,
        ),
      () => `received ${String(receiver.firstSeen.length)} events`,
    );
    const deliveries = await t.call('GET', `/webhooks/${subscription.subscription.id}/deliveries`, {
      token,
    });
    const sent = (deliveries.json as { deliveries: { eventId: string; type: string }[] }).deliveries
      .filter((d) => d.type === 'campaign.threats-found')
      .map((d) => d.eventId)
      .sort();
    expect(sent).toEqual(
      found.map((d) => `campaign.threats-found:${campaignId}:${d.machineId}`).sort(),
    );
    expect(receiver.stats().badSignatures).toBe(0);
    expect(receiver.firstSeen.filter((e) => e.type === 'campaign.settled')).toHaveLength(1);
  }, 180_000);
});
