import { describe, expect, it } from 'vitest';
import { describeEvent, MAX_FACTS } from '../../../src/webhooks/notification.js';
import { escapeMrkdwn, slackMessage } from '../../../src/webhooks/slack-message.js';
import { teamsMessage } from '../../../src/webhooks/teams-message.js';
import type { WebhookEvent } from '../../../src/webhooks/webhook-event.js';
import { formatDelivery } from '../../../src/webhooks/webhook-format.js';
import {
  securityDenialsEvent,
  tenantBlockEvent,
  threatsFoundEvent,
} from '../../../src/webhooks/source-events.js';

const AT = Date.parse('2026-12-07T18:00:00Z');

const campaign = {
  id: 'c-abc123def456',
  name: 'Weekly <servers> & co',
  state: 'running',
  tenant: 'contoso',
  priority: 'urgent',
  total: 1_200,
  counts: { queued: 0, deferred: 0, requested: 1_150, failed: 50, cancelled: 0 },
  failuresByReason: {
    'ResourceNotFound: Machine not found': 30,
    'OsPlatformNotSupported: macOS': 15,
    'pending-timeout': 5,
    'InvalidMachineId: x': 0,
  },
  finishedAt: null,
};

function event(type: string, data: Record<string, unknown>, tenant = 'contoso'): WebhookEvent {
  return {
    id: `${type}:x`,
    type: type as WebhookEvent['type'],
    occurredAt: AT,
    tenant,
    campaignId: 'campaign' in data ? campaign.id : null,
    data,
  };
}

describe('chat notifications of events', () => {
  it('says how many devices failed, with the top failure codes, for a finished campaign', () => {
    const n = describeEvent(event('campaign.finished', { campaign }));
    expect(n.title).toBe('Campaign finished: Weekly <servers> & co');
    expect(n.tone).toBe('warning'); // finished, but with failures
    expect(n.summary).toBe(
      'Weekly <servers> & co: 1,150 of 1,200 devices got a scan request, 50 failed.',
    );
    expect(n.facts).toContainEqual({ name: 'Class', value: 'urgent' });
    expect(n.facts).toContainEqual({
      name: 'Top failures',
      value: 'ResourceNotFound ×30, OsPlatformNotSupported ×15, pending-timeout ×5',
    });
    expect(n.footer).toBe(
      'fleetscan · campaign.finished · 2026-12-07T18:00:00.000Z · campaign.finished:x',
    );
  });

  it('puts the news of failed devices first', () => {
    const n = describeEvent(
      event('campaign.failed-devices', { campaign, failed: 50, newFailures: 20 }),
    );
    expect(n.summary).toBe('Weekly <servers> & co: 20 more devices failed (50 in all).');
    expect(n.facts.slice(0, 2)).toEqual([
      { name: 'Failed', value: '50' },
      { name: 'New failures', value: '20' },
    ]);
    expect(n.facts.filter((f) => f.name === 'Failed')).toHaveLength(1);
  });

  it('names a blocked tenant, why, and when it is tried again', () => {
    const n = describeEvent(
      tenantBlockEvent('fabrikam', true, AT, 'secret-expired', {
        message: 'AADSTS7000222: The provided client secret keys are expired',
        nextProbeAt: '2026-12-07T18:05:00.000Z',
      }),
    );
    expect(n.title).toBe('Tenant blocked: fabrikam');
    expect(n.tone).toBe('attention');
    expect(n.summary).toBe('fabrikam: AADSTS7000222: The provided client secret keys are expired');
    expect(n.facts).toEqual([
      { name: 'Tenant', value: 'fabrikam' },
      { name: 'Reason', value: 'secret-expired' },
      { name: 'Message', value: 'AADSTS7000222: The provided client secret keys are expired' },
      { name: 'Next probe at', value: '2026-12-07T18:05:00.000Z' },
    ]);
  });

  it('says what verify found on a device, and how much is not remediated', () => {
    const n = describeEvent(
      threatsFoundEvent(
        { id: campaign.id, name: 'Incident sweep', tenant: 'contoso' },
        'ab'.repeat(20),
        {
          count: 3,
          names: ['EICAR_Test_File', 'Trojan:Win32/Wacatac'],
          unremediated: 1,
          files: ['C:\\Users\\x\\eicar.com'],
          alerts: 1,
          alertTitles: ["'EICAR_Test_File' malware was detected"],
          firstAt: '2026-12-07T17:59:00.000Z',
        },
        AT,
      ),
    );
    expect(n.title).toBe('Threats found: Incident sweep');
    expect(n.tone).toBe('attention');
    expect(n.summary).toBe(
      `Incident sweep: 3 detections on device ${'ab'.repeat(20)} (EICAR_Test_File, ` +
        'Trojan:Win32/Wacatac), 1 not remediated.',
    );
    expect(n.facts).toContainEqual({ name: 'Threats unremediated', value: '1' });
    expect(n.facts.length).toBeLessThanOrEqual(MAX_FACTS);
  });

  it('reads a refused-requests alarm', () => {
    const n = describeEvent(
      securityDenialsEvent(
        {
          who: 'token:ci',
          action: 'POST /campaigns',
          status: 403,
          from: '10.0.0.9',
          count: 120,
          since: AT,
        },
        AT,
      ),
    );
    expect(n.title).toBe('Refused API requests: token:ci');
    expect(n.facts).toContainEqual({ name: 'Count', value: '120' });
  });

  it('gives an event type it does not know its name as title and its data as facts', () => {
    const n = describeEvent(
      event('campaign.threats-found', {
        campaign,
        threats: { devices: 3, detections: 7, families: ['Trojan:Win32/Wacatac', 'EICAR'] },
      }),
    );
    expect(n.title).toBe('Threats found: Weekly <servers> & co');
    expect(n.tone).toBe('attention');
    expect(n.facts.slice(0, 3)).toEqual([
      { name: 'Threats devices', value: '3' },
      { name: 'Threats detections', value: '7' },
      { name: 'Threats families', value: 'Trojan:Win32/Wacatac, EICAR' },
    ]);
    const novel = describeEvent(
      event('schedule.skipped', { schedule: 'nightly', reasonCode: 'overlap', missed: true }),
    );
    expect(novel.title).toBe('schedule.skipped: contoso');
    expect(novel.tone).toBe('neutral');
    expect(novel.facts).toEqual([
      { name: 'Schedule', value: 'nightly' },
      { name: 'Reason code', value: 'overlap' },
      { name: 'Missed', value: 'yes' },
    ]);
  });

  it('keeps at most ten facts and clips long values', () => {
    const data = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`field${String(i)}`, 'x'.repeat(5_000)]),
    );
    const n = describeEvent(event('campaign.new-kind', data));
    expect(n.facts).toHaveLength(MAX_FACTS);
    expect(Math.max(...n.facts.map((f) => f.value.length))).toBeLessThanOrEqual(300);
  });
});

describe('Teams and Slack shapes', () => {
  const n = describeEvent(event('campaign.finished', { campaign }));

  it('wraps an Adaptive Card in a message attachment for Teams', () => {
    const message = teamsMessage(n) as {
      type: string;
      attachments: {
        contentType: string;
        content: { type: string; version: string; body: { type: string; color?: string }[] };
      }[];
    };
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    const [attachment] = message.attachments;
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment?.content.type).toBe('AdaptiveCard');
    expect(attachment?.content.version).toBe('1.4');
    expect(attachment?.content.body.map((b) => b.type)).toEqual([
      'TextBlock',
      'TextBlock',
      'FactSet',
      'TextBlock',
    ]);
    expect(attachment?.content.body[0]?.color).toBe('Warning');
  });

  it('escapes Slack control characters and keeps Block Kit limits', () => {
    expect(escapeMrkdwn('a <b> & c')).toBe('a &lt;b&gt; &amp; c');
    const long = { ...n, title: 'T'.repeat(400), facts: n.facts.concat(n.facts, n.facts) };
    const message = slackMessage(long) as {
      text: string;
      blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[];
    };
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(message.blocks[0]?.text?.text.length).toBeLessThanOrEqual(150);
    expect(message.blocks[2]?.fields?.length).toBeLessThanOrEqual(10);
    expect(JSON.stringify(message)).not.toMatch(/[<>]/);
  });

  it('sends the signed JSON by default and the chat shapes on request', () => {
    const e = event('campaign.finished', { campaign });
    expect(JSON.parse(formatDelivery('json', e, 7))).toMatchObject({ id: e.id, sequence: 7 });
    expect(JSON.parse(formatDelivery('teams', e, 7))).toMatchObject({ type: 'message' });
    expect(JSON.parse(formatDelivery('slack', e, 7))).toHaveProperty('blocks');
  });
});
