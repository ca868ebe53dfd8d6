import type { WebhookEvent } from './webhook-event.js';

/** How the news reads at a glance: the colour of a Teams title, the emoji of a Slack header. */
export type Tone = 'good' | 'warning' | 'attention' | 'neutral';

export interface Fact {
  name: string;
  value: string;
}

/**
 * An event as a person reads it in a chat channel: a title, one sentence, a few facts and a
 * footer naming the event. Both chat formats (teams-message.ts, slack-message.ts) render this.
 */
export interface Notification {
  title: string;
  summary: string;
  tone: Tone;
  facts: Fact[];
  footer: string;
}

/** Slack shows at most 10 fields in a section; Teams would show more, but a card stays short. */
export const MAX_FACTS = 10;
const MAX_VALUE = 300;

/** Titles of the events known today; a new event type falls back to its own name. */
const TITLES: Record<string, { title: string; tone: Tone }> = {
  'campaign.finished': { title: 'Campaign finished', tone: 'good' },
  'campaign.settled': { title: 'Campaign settled', tone: 'good' },
  'campaign.failed-devices': { title: 'Devices failed', tone: 'warning' },
  'campaign.threats-found': { title: 'Threats found', tone: 'attention' },
  'tenant.blocked': { title: 'Tenant blocked', tone: 'attention' },
  'tenant.unblocked': { title: 'Tenant takes calls again', tone: 'good' },
  'security.denials': { title: 'Refused API requests', tone: 'attention' },
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** `text` cut to `most` characters, an ellipsis marking the cut. */
export const clip = (text: string, most = MAX_VALUE) =>
  text.length > most ? `${text.slice(0, most - 1)}…` : text;

/** `failedDevices` → `Failed devices`; `counts.requested` → `Counts requested`. */
function label(path: string): string {
  const words = path
    .replace(/\./g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function show(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : clip(value);
  if (typeof value === 'number') return value.toLocaleString('en-US');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) {
    const items = value.map(show).filter((item): item is string => item !== null);
    return items.length === 0 ? null : clip(items.join(', '));
  }
  return null;
}

/** Scalars (and lists of them) of `data`, one level into objects, as facts in their order. */
function dataFacts(data: Record<string, unknown>, skip: ReadonlySet<string>): Fact[] {
  const facts: Fact[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (skip.has(key)) continue;
    if (isRecord(value)) {
      for (const [inner, nested] of Object.entries(value)) {
        const shown = show(nested);
        if (shown !== null) facts.push({ name: label(`${key}.${inner}`), value: shown });
      }
      continue;
    }
    const shown = show(value);
    if (shown !== null) facts.push({ name: label(key), value: shown });
  }
  return facts;
}

/** The facts of a campaign summary (campaign-events.ts / source-events.ts). */
function campaignFacts(campaign: Record<string, unknown>): Fact[] {
  const counts = isRecord(campaign['counts']) ? campaign['counts'] : {};
  const reasons = isRecord(campaign['failuresByReason']) ? campaign['failuresByReason'] : {};
  const top = Object.entries(reasons)
    .map(([reason, n]) => [reason.split(':', 1)[0] ?? reason, count(n)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([code, n]) => `${code} ×${n.toLocaleString('en-US')}`);
  const facts: [string, unknown][] = [
    ['Id', campaign['id']],
    ['Tenant', campaign['tenant']],
    ['Class', campaign['priority']],
    ['State', campaign['state']],
    ['Devices', campaign['total']],
    ['Scan requested', counts['requested']],
    ['Failed', counts['failed']],
    ['Cancelled', counts['cancelled']],
    ['Top failures', top],
  ];
  return facts.flatMap(([name, value]) => {
    const shown = show(value);
    return shown === null ? [] : [{ name, value: shown }];
  });
}

/** One sentence for the campaign events; null for others (a generic one is made then). */
function campaignSummary(event: WebhookEvent, campaign: Record<string, unknown>): string | null {
  const counts = isRecord(campaign['counts']) ? campaign['counts'] : {};
  const n = (value: unknown) => count(value).toLocaleString('en-US');
  const name = show(campaign['name']) ?? event.campaignId ?? '';
  switch (event.type) {
    case 'campaign.finished':
      return (
        `${name}: ${n(counts['requested'])} of ${n(campaign['total'])} devices got a scan ` +
        `request, ${n(counts['failed'])} failed.`
      );
    case 'campaign.failed-devices':
      return `${name}: ${n(event.data['newFailures'])} more devices failed (${n(event.data['failed'])} in all).`;
    case 'campaign.settled':
      return `${name}: every scan action reached a final status.`;
    case 'campaign.threats-found': {
      const threats = isRecord(event.data['threats']) ? event.data['threats'] : {};
      const names = show(threats['names']);
      return (
        `${name}: ${n(threats['count'])} detections on device ${String(show(event.data['machineId']))}` +
        `${names ? ` (${names})` : ''}, ${n(threats['unremediated'])} not remediated.`
      );
    }
    default:
      return null;
  }
}

/**
 * Pure: what a chat message says about `event`. Known types get their own title and sentence;
 * any other type (a new event) gets its name as the title and its data as facts, so a new event
 * type needs no change here to arrive readable.
 */
export function describeEvent(event: WebhookEvent): Notification {
  const known = TITLES[event.type] ?? { title: event.type, tone: 'neutral' as const };
  const campaign = isRecord(event.data['campaign']) ? event.data['campaign'] : null;
  const subject = campaign
    ? (show(campaign['name']) ?? event.campaignId ?? '')
    : event.tenant || (show(event.data['who']) ?? '');
  const failed = campaign && isRecord(campaign['counts']) ? count(campaign['counts']['failed']) : 0;
  const tone: Tone = event.type === 'campaign.finished' && failed > 0 ? 'warning' : known.tone;
  // What is particular to the event first, then the campaign's record; one fact per name.
  const named = new Map<string, Fact>();
  for (const fact of [
    ...dataFacts(event.data, new Set(['campaign'])),
    ...(campaign ? campaignFacts(campaign) : []),
  ]) {
    if (!named.has(fact.name)) named.set(fact.name, fact);
  }
  const facts = [...named.values()].slice(0, MAX_FACTS);
  const message = show(event.data['message']) ?? show(event.data['reason']);
  const summary =
    (campaign ? campaignSummary(event, campaign) : null) ??
    (message
      ? `${subject ? `${subject}: ` : ''}${message}`
      : `${known.title}${subject ? `: ${subject}` : ''}.`);
  return {
    title: clip(subject ? `${known.title}: ${subject}` : known.title, 150),
    summary: clip(summary, 1_000),
    tone,
    facts,
    footer: `fleetscan · ${event.type} · ${new Date(event.occurredAt).toISOString()} · ${event.id}`,
  };
}
