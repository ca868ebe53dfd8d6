import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import { campaignEvents, NOTHING_SEEN } from '../../../src/webhooks/campaign-events.js';
import { campaignSettledEvent, tenantBlockEvent } from '../../../src/webhooks/source-events.js';
import {
  deliveryBody,
  retryDelay,
  subscriptionMatches,
  type WebhookEvent,
  type WebhookSubscription,
} from '../../../src/webhooks/webhook-event.js';
import { signWebhook, verifyWebhook } from '../../../src/webhooks/webhook-signature.js';

const SECRET = 'whsec_test';
const BODY = '{"id":"e1","type":"campaign.finished"}';

describe('webhook signatures', () => {
  const now = 1_800_000_000;
  const signature = signWebhook(SECRET, now, BODY);

  it('signs the timestamp and the body with HMAC-SHA256', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(signWebhook(SECRET, now + 1, BODY)).not.toBe(signature);
  });

  it.each([
    ['a correct delivery', { body: BODY, timestamp: String(now), signature }, { ok: true }],
    [
      'a changed body',
      { body: `${BODY} `, timestamp: String(now), signature },
      { ok: false, reason: 'mismatch' },
    ],
    [
      'a replayed signature with a new timestamp',
      { body: BODY, timestamp: String(now + 5), signature },
      { ok: false, reason: 'mismatch' },
    ],
    [
      'another secret',
      { body: BODY, timestamp: String(now), signature: signWebhook('other', now, BODY) },
      { ok: false, reason: 'mismatch' },
    ],
    [
      'no signature',
      { body: BODY, timestamp: String(now), signature: undefined },
      { ok: false, reason: 'missing' },
    ],
    [
      'a garbage timestamp',
      { body: BODY, timestamp: 'yesterday', signature },
      { ok: false, reason: 'missing' },
    ],
  ] as const)('judges %s', (_name, input, expected) => {
    expect(verifyWebhook({ secret: SECRET, nowSec: now, ...input })).toEqual(expected);
  });

  it('refuses a delivery older than the tolerance', () => {
    const old = signWebhook(SECRET, now - 301, BODY);
    expect(
      verifyWebhook({
        secret: SECRET,
        body: BODY,
        timestamp: String(now - 301),
        signature: old,
        nowSec: now,
      }),
    ).toEqual({ ok: false, reason: 'stale' });
  });
});

const campaign = (over: Partial<Campaign>): Campaign => ({
  id: 'c-aaaaaaaaaaaa',
  name: 'n',
  scanType: 'Quick',
  comment: 'c',
  createdAt: 1_000,
  createdBy: 't',
  source: 's',
  tenant: 'default',
  priority: 'normal',
  window: null,
  schedule: null,
  state: 'running',
  finishedAt: null,
  total: 10,
  counts: { queued: 5, deferred: 0, requested: 5, failed: 0, cancelled: 0 },
  joinedExisting: 0,
  failuresByReason: {},
  deferrals: 0,
  ...over,
});
const counts = (failed: number) => ({
  queued: 0,
  deferred: 0,
  requested: 10 - failed,
  failed,
  cancelled: 0,
});

describe('campaign events', () => {
  it.each([
    ['nothing for a running campaign without failures', campaign({}), NOTHING_SEEN, []],
    [
      'failed-devices when a first device fails',
      campaign({ counts: { ...counts(1), queued: 3 } }),
      NOTHING_SEEN,
      ['campaign.failed-devices:c-aaaaaaaaaaaa:1'],
    ],
    [
      'nothing new when the failures were announced',
      campaign({ counts: counts(1) }),
      { failed: 1, finishedAt: null },
      [],
    ],
    [
      'failures before the end, in one pass',
      campaign({ state: 'finished', finishedAt: 9_000, counts: counts(2) }),
      { failed: 1, finishedAt: null },
      ['campaign.failed-devices:c-aaaaaaaaaaaa:2', 'campaign.finished:c-aaaaaaaaaaaa:9000'],
    ],
    [
      'finished once per finish',
      campaign({ state: 'finished', finishedAt: 9_000, counts: counts(0) }),
      { failed: 0, finishedAt: 9_000 },
      [],
    ],
    [
      'finished again after a retry',
      campaign({ state: 'finished', finishedAt: 12_000, counts: counts(0) }),
      { failed: 2, finishedAt: 9_000 },
      ['campaign.finished:c-aaaaaaaaaaaa:12000'],
    ],
    [
      'nothing for a cancelled campaign without failures',
      campaign({ state: 'cancelled', counts: counts(0) }),
      NOTHING_SEEN,
      [],
    ],
  ] as const)('%s', (_name, record, seen, ids) => {
    expect(campaignEvents(record, seen, 50_000).events.map((e) => e.id)).toEqual(ids);
  });

  it('dates a finished campaign’s news at its end, so later subscriptions do not get it', () => {
    const [failed] = campaignEvents(
      campaign({ state: 'finished', finishedAt: 9_000, counts: counts(1) }),
      NOTHING_SEEN,
      50_000,
    ).events;
    expect(failed?.occurredAt).toBe(9_000);
    expect(
      campaignEvents(campaign({ counts: counts(3) }), { failed: 4, finishedAt: null }, 1).seen
        .failed,
    ).toBe(3);
  });
});

describe('subscriptions and deliveries', () => {
  const sub: WebhookSubscription = {
    id: 'wh-0000000000',
    url: 'http://x',
    events: ['campaign.finished'],
    tenant: 'contoso',
    campaignId: null,
    format: 'json',
    createdAt: 100,
    createdBy: 't',
  };
  const event: WebhookEvent = {
    id: 'e',
    type: 'campaign.finished',
    occurredAt: 200,
    tenant: 'contoso',
    campaignId: 'c-aaaaaaaaaaaa',
    data: {},
  };

  it.each([
    ['its event type, tenant and time', {}, {}, true],
    ['another event type', {}, { type: 'campaign.failed-devices' }, false],
    ['another tenant', {}, { tenant: 'fabrikam' }, false],
    ['news older than the subscription', {}, { occurredAt: 50 }, false],
    ['its campaign', { campaignId: 'c-aaaaaaaaaaaa' }, {}, true],
    ['another campaign', { campaignId: 'c-bbbbbbbbbbbb' }, {}, false],
    ['any tenant when none is named', { tenant: null }, { tenant: 'fabrikam' }, true],
  ] as const)('a subscription matches %s: %s', (_name, s, e, expected) => {
    expect(subscriptionMatches({ ...sub, ...s }, { ...event, ...e })).toBe(expected);
  });

  it('puts the sequence number and ISO time into the body', () => {
    expect(JSON.parse(deliveryBody(event, 7))).toMatchObject({
      id: 'e',
      sequence: 7,
      occurredAt: '1970-01-01T00:00:00.200Z',
    });
  });

  it.each([
    [1, 2_000],
    [2, 4_000],
    [3, 8_000],
    [10, 600_000],
  ])('waits after attempt %i for %i ms (doubling, capped)', (attempt, ms) => {
    expect(retryDelay(attempt, 2_000, 600_000)).toBe(ms);
  });
});

describe('events of other sources', () => {
  it('gives one fact one id, so a second emit sends nothing', () => {
    const c = campaign({ state: 'finished', finishedAt: 9_000 });
    expect(campaignSettledEvent(c, 20_000)).toEqual(campaignSettledEvent(c, 20_000));
    expect(campaignSettledEvent(c, 20_000)).toMatchObject({
      id: 'campaign.settled:c-aaaaaaaaaaaa:20000',
      type: 'campaign.settled',
      tenant: 'default',
    });
    expect(tenantBlockEvent('contoso', true, 5, 'consent revoked')).toMatchObject({
      id: 'tenant.blocked:contoso:5',
      campaignId: null,
      data: { tenant: 'contoso', reason: 'consent revoked' },
    });
    expect(tenantBlockEvent('contoso', false, 6, 'ok').type).toBe('tenant.unblocked');
  });
});
