import { describe, expect, it } from 'vitest';
import type { Campaign, DeviceRecord } from '../../../src/campaigns/campaign.js';
import { buildReportData, type ReportData } from '../../../src/reports/report-data.js';
import { reportHeadline } from '../../../src/reports/report-headline.js';
import { describeSource, reportSections } from '../../../src/reports/report-sections.js';
import { renderHtml } from '../../../src/reports/render-html.js';
import { renderMarkdown } from '../../../src/reports/render-markdown.js';
import { decodeLifecycle } from '../../../src/tracking/lifecycle-store.js';

const T = Date.parse('2026-12-07T14:20:00Z');
const MINUTE = 60_000;

function campaign(over: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-mhx1y2z3a1b2',
    name: 'Incident sweep',
    scanType: 'Quick',
    comment: 'sweep [fleetscan:c-mhx1y2z3a1b2]',
    createdAt: T,
    createdBy: 'soc@contoso.example',
    source: "query:healthStatus eq 'Active' tag:finance,vip group:Finance PCs",
    tenant: 'contoso',
    priority: 'urgent',
    window: null,
    schedule: null,
    state: 'finished',
    finishedAt: T + 6 * MINUTE,
    total: 0,
    counts: { queued: 0, deferred: 0, requested: 0, failed: 0, cancelled: 0 },
    joinedExisting: 0,
    failuresByReason: {},
    deferrals: 0,
    ...over,
  };
}

function device(i: number, over: Partial<DeviceRecord>): DeviceRecord {
  return {
    machineId: i.toString(16).padStart(40, '0'),
    state: 'requested',
    machineActionId: `a-${String(i)}`,
    actionStatus: 'Succeeded',
    reason: null,
    attempts: 1,
    requestedAt: T + i * 100,
    joinedExisting: false,
    sentAt: null,
    deferredUntil: null,
    firstBusyAt: null,
    ...over,
  };
}

async function* each<T>(items: readonly T[]): AsyncIterable<T> {
  await Promise.resolve();
  yield* items;
}

async function report(input: {
  campaign: Campaign;
  devices: DeviceRecord[];
  lifecycle?: Record<string, string>;
  skipped?: Record<string, number>;
}): Promise<ReportData> {
  return buildReportData({
    campaign: input.campaign,
    lifecycle: decodeLifecycle(input.lifecycle ?? {}),
    skipped: input.skipped ?? {},
    devices: each(input.devices),
    windows: [
      { cap: 1500, windowMs: 60 * MINUTE },
      { cap: 100, windowMs: MINUTE },
    ],
    calls: [
      { family: 'scan', startMs: T, bucketMs: MINUTE, calls: 87 },
      { family: 'cancel', startMs: T + 2 * MINUTE, bucketMs: MINUTE, calls: 89 },
      { family: 'machineActions', startMs: T + 2 * MINUTE, bucketMs: MINUTE, calls: 89 },
    ],
    budgetScope: 'family',
    nowMs: T + 10 * MINUTE,
  });
}

/** 87 requested, then cancelled with the kill switch: 213 never called, nothing verified. */
async function cancelledCampaign(): Promise<ReportData> {
  const devices = [
    ...Array.from({ length: 87 }, (_, i) =>
      device(i, {
        actionStatus: 'Cancelled',
        cancelResult: i < 85 ? 'cancelled' : 'already-final',
      }),
    ),
    ...Array.from({ length: 213 }, (_, i) =>
      device(100 + i, { state: 'cancelled', machineActionId: null, actionStatus: null }),
    ),
  ];
  return report({
    campaign: campaign({ state: 'cancelled', total: 300 }),
    devices,
    lifecycle: { 'cancel:cancelled': '85', 'cancel:already-final': '2' },
    skipped: { inactive: 12, 'unsupported-platform': 3 },
  });
}

const proofLifecycle = (completed: number, noEvidence: number) => ({
  verifiedAt: String(T + 9 * MINUTE),
  'proof:completed': String(completed),
  'proof:no-evidence': String(noEvidence),
});

describe('the report headline', () => {
  it('says cancelled, what the kill switch did and "not verified" for a cancelled campaign', async () => {
    const data = await cancelledCampaign();
    const h = reportHeadline(data);
    expect(h.verdict).toBe('not-verified');
    expect(h.state).toBe(
      'Cancelled at 2026-12-07T14:26:00.000Z: 87 of 300 devices got a scan request, 213 never did',
    );
    expect(h.killSwitch).toBe(
      'Kill switch cancelled 85 actions in Defender (2 already finished, 0 refused)',
    );
    expect(h.proof).toMatch(/^Not verified: 87 scans requested/);
    const html = renderHtml(data);
    expect(html).not.toContain('Proved complete: 0');
    expect(renderMarkdown(data)).toContain('| Proved complete | not verified (87 actions) |');
  });

  it.each([
    [
      'proved',
      Array.from({ length: 10 }, (_, i) =>
        device(i, { scanResult: i < 9 ? 'completed' : 'no-evidence' }),
      ),
      proofLifecycle(9, 1),
      'verified',
      'Proved complete: 9 of 10 (1 without evidence)',
    ],
    [
      'every scan proved',
      Array.from({ length: 10 }, (_, i) => device(i, { scanResult: 'completed' })),
      proofLifecycle(10, 0),
      'proved',
      'Proved complete: 10 of 10',
    ],
    [
      'partly verified',
      Array.from({ length: 10 }, (_, i) => device(i, { scanResult: i < 6 ? 'completed' : null })),
      proofLifecycle(6, 0),
      'partly-verified',
      'Partly verified: 6 of 10 proved complete, 4 not checked yet',
    ],
    [
      'never verified',
      Array.from({ length: 10 }, (_, i) => device(i, {})),
      {},
      'not-verified',
      "Not verified: 10 scans requested, none checked against the devices' events (run fleetscan verify)",
    ],
  ] as const)('reads %s from the devices', async (_name, devices, lifecycle, verdict, proof) => {
    const data = await report({
      campaign: campaign({ total: 10 }),
      devices: [...devices],
      lifecycle,
    });
    expect(reportHeadline(data)).toMatchObject({ verdict, proof, state: null, killSwitch: null });
  });
});

describe('the report sections', () => {
  const rows = (data: ReportData, title: string) =>
    Object.fromEntries(reportSections(data).find((s) => s.title === title)?.rows ?? []);

  it('names the source, its filter, tags and group, the counts and every skip by reason', async () => {
    expect(rows(await cancelledCampaign(), 'Targets')).toEqual({
      Source: 'List Machines',
      'Filter ($filter)': "healthStatus eq 'Active'",
      Tags: 'finance,vip',
      'Device group': 'Finance PCs',
      Tenant: 'contoso',
      'Devices in the campaign': '300',
      'Left out when the campaign was made': '15',
      '· not Active (inactive or no sensor data)': '12',
      '· platform cannot run an antivirus scan': '3',
    });
    expect(describeSource('file:devices.csv')).toEqual([['Source', 'device file devices.csv']]);
    expect(describeSource('all')).toEqual([
      ['Source', 'every device of the tenant (List Machines)'],
    ]);
  });

  it('explains the devices without an action instead of "none 213"', async () => {
    const data = await cancelledCampaign();
    const section = reportSections(data).find((s) => s.title === 'Action statuses');
    expect(section?.note).toMatch(/last status Defender reported/);
    expect(Object.fromEntries(section?.rows ?? [])).toEqual({
      Cancelled: '87',
      'no action: campaign cancelled first': '213',
    });
  });

  it.each([
    [1, 'none (one request)'],
    [87, 'none: 87 requests fit in one window of every cap (100 per 1 min and 1,500 per 1 h)'],
    [250, '2m for 250 requests at 100 per 1 min and 1,500 per 1 h'],
  ])('explains the floor under the caps for %i requests', async (count, text) => {
    const devices = Array.from({ length: count }, (_, i) => device(i, {}));
    const data = await report({ campaign: campaign({ total: count }), devices });
    expect(rows(data, 'Pace')['Least time the caps allow']).toBe(text);
  });
});

describe('the HTML report', () => {
  it('writes every timestamp as one unbreakable <time>', async () => {
    const html = renderHtml(await cancelledCampaign());
    expect(html).toContain(
      '<time datetime="2026-12-07T14:26:00.000Z">2026-12-07\u00a014:26:00\u00a0UTC</time>',
    );
    expect(html).toMatch(/time,code,\.nowrap\{white-space:nowrap\}/);
    expect(html).not.toMatch(/break-word|break-all|overflow-wrap:anywhere/);
    // Outside attributes, no ISO timestamp is left as breakable text.
    const text = html.replace(/<[^>]*>/g, '');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it('draws one chart per family and window against that family cap, labelled start to end', async () => {
    const html = renderHtml(await cancelledCampaign());
    const charts = [
      ...html.matchAll(/<svg[^>]*data-family="(\w+)" data-window-ms="(\d+)"[\s\S]*?<\/svg>/g),
    ];
    expect(charts.map((m) => [m[1], Number(m[2])])).toEqual([
      ['scan', MINUTE],
      ['scan', 60 * MINUTE],
      ['machineActions', MINUTE],
      ['machineActions', 60 * MINUTE],
      ['cancel', MINUTE],
      ['cancel', 60 * MINUTE],
    ]);
    for (const [svg] of charts) {
      const start = /class="axis-start"[^>]*>([^<]*)</.exec(svg)?.[1];
      const end = /class="axis-end"[^>]*>([^<]*)</.exec(svg)?.[1];
      expect(start).toBeDefined();
      expect(end).not.toBe(start);
    }
    // A single 1-minute bucket still spans its minute.
    const cancelMinute = charts[4]?.[0] ?? '';
    expect(/class="axis-start"[^>]*>([^<]*)</.exec(cancelMinute)?.[1]).toBe('14:22:00 UTC');
    expect(/class="axis-end"[^>]*>([^<]*)</.exec(cancelMinute)?.[1]).toBe('14:23:00 UTC');
  });
});
