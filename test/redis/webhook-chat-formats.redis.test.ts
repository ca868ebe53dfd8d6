import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CreatedCampaignSchema } from '../../src/api/campaign-schemas.js';
import { eventually, startApiFixture } from './api-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/*
 * What each service accepts, as documented (docs/automation.md cites the pages): a receiver
 * answers as the service would, refusing a body that breaks the shape with 400.
 */
const TextBlock = z.strictObject({
  type: z.literal('TextBlock'),
  text: z.string().min(1),
  weight: z.enum(['Default', 'Lighter', 'Bolder']).optional(),
  size: z.enum(['Default', 'Small', 'Medium', 'Large', 'ExtraLarge']).optional(),
  color: z.enum(['Default', 'Dark', 'Light', 'Accent', 'Good', 'Warning', 'Attention']).optional(),
  isSubtle: z.boolean().optional(),
  wrap: z.boolean().optional(),
});
const FactSet = z.strictObject({
  type: z.literal('FactSet'),
  facts: z.array(z.strictObject({ title: z.string().min(1), value: z.string().min(1) })).min(1),
});
const TeamsMessage = z.strictObject({
  type: z.literal('message'),
  attachments: z
    .array(
      z.strictObject({
        contentType: z.literal('application/vnd.microsoft.card.adaptive'),
        contentUrl: z.null(),
        content: z.strictObject({
          $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^1\.[0-4]$/),
          body: z.array(z.union([TextBlock, FactSet])).min(1),
          msteams: z.strictObject({ width: z.literal('Full') }).optional(),
        }),
      }),
    )
    .length(1),
});

const mrkdwn = (most: number) =>
  z.strictObject({
    type: z.literal('mrkdwn'),
    // Slack's control characters arrive escaped: a bare < or > would start a link or mention.
    text: z
      .string()
      .min(1)
      .max(most)
      .regex(/^[^<>]*$/),
  });
const SlackMessage = z.strictObject({
  text: z
    .string()
    .min(1)
    .regex(/^[^<>]*$/),
  blocks: z
    .array(
      z.union([
        z.strictObject({
          type: z.literal('header'),
          text: z.strictObject({
            type: z.literal('plain_text'),
            text: z.string().min(1).max(150),
            emoji: z.boolean().optional(),
          }),
        }),
        z.strictObject({
          type: z.literal('section'),
          text: mrkdwn(3_000).optional(),
          fields: z.array(mrkdwn(2_000)).min(1).max(10).optional(),
        }),
        z.strictObject({
          type: z.literal('context'),
          elements: z.array(mrkdwn(3_000)).min(1).max(10),
        }),
      ]),
    )
    .min(1)
    .max(50),
});

/** A chat service's webhook: answers as it does (Workflows 202, Slack 200 `ok`), or 400. */
async function startChatReceiver(
  schema: z.ZodType,
  accepted: { status: number; body: string },
): Promise<{ url: string; bodies: unknown[]; refused: string[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const refused: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const parsed = schema.safeParse(JSON.parse(text));
      if (!parsed.success || request.headers['content-type'] !== 'application/json') {
        refused.push(parsed.success ? 'content-type' : z.prettifyError(parsed.error));
        response.writeHead(400).end('invalid_payload');
        return;
      }
      bodies.push(parsed.data);
      response.writeHead(accepted.status).end(accepted.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    bodies,
    refused,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

describe('webhooks in chat formats', () => {
  it('sends a finished campaign to Teams as an Adaptive Card and to Slack as Block Kit', async () => {
    const t = await startApiFixture({ worker: false });
    cleanups.push(() => t.close());
    const teams = await startChatReceiver(TeamsMessage, { status: 202, body: '' });
    const slack = await startChatReceiver(SlackMessage, { status: 200, body: 'ok' });
    cleanups.push(
      () => teams.close(),
      () => slack.close(),
    );
    const token = await t.token(['write']);
    const subscribe = async (url: string, format: string) => {
      const r = await t.call('POST', '/webhooks', {
        token,
        body: { url, events: ['campaign.finished'], format },
      });
      expect(r.status).toBe(201);
      return (r.json as { subscription: { id: string; format: string } }).subscription;
    };
    const toTeams = await subscribe(`${teams.url}/workflows/trigger`, 'teams');
    const toSlack = await subscribe(`${slack.url}/services/T0/B0/x`, 'slack');
    expect([toTeams.format, toSlack.format]).toEqual(['teams', 'slack']);
    const bad = await t.call('POST', '/webhooks', {
      token,
      body: { url: `${slack.url}/x`, events: ['campaign.finished'], format: 'discord' },
    });
    expect(bad.status).toBe(400);

    const devices = t.sim.machines.slice(0, 4).map((m) => m.id);
    const created = await t.call('POST', '/campaigns', {
      token,
      body: { devices, name: 'Incident 4711: <finance> & co', comment: 'Incident 4711' },
    });
    const campaign = CreatedCampaignSchema.parse(created.json).campaign;
    t.startWorker();
    await eventually(
      () => Promise.resolve(teams.bodies.length > 0 && slack.bodies.length > 0 ? true : undefined),
      () => `teams ${JSON.stringify(teams.refused)}, slack ${JSON.stringify(slack.refused)}`,
    );
    expect(teams.refused).toEqual([]);
    expect(slack.refused).toEqual([]);

    const card = TeamsMessage.parse(teams.bodies[0]).attachments[0]!.content;
    const blocks = card.body.map((block) => block.type);
    expect(blocks).toEqual(['TextBlock', 'TextBlock', 'FactSet', 'TextBlock']);
    const [title, summary, facts] = card.body as [
      z.infer<typeof TextBlock>,
      z.infer<typeof TextBlock>,
      z.infer<typeof FactSet>,
    ];
    expect(title.text).toBe('Campaign finished: Incident 4711: <finance> & co');
    const finished = await t.runtime.store.getCampaign(campaign.id);
    const { requested, failed } = finished?.counts ?? { requested: -1, failed: -1 };
    expect(summary.text).toBe(
      `Incident 4711: <finance> & co: ${String(requested)} of 4 devices got a scan request, ` +
        `${String(failed)} failed.`,
    );
    expect(title.color).toBe(failed > 0 ? 'Warning' : 'Good');
    expect(facts.facts).toContainEqual({ title: 'Id', value: campaign.id });
    expect(facts.facts).toContainEqual({ title: 'Tenant', value: 'default' });

    const message = SlackMessage.parse(slack.bodies[0]);
    expect(message.text).toContain('Campaign finished: Incident 4711: &lt;finance&gt; &amp; co');
    expect(message.blocks.map((block) => block.type)).toEqual([
      'header',
      'section',
      'section',
      'context',
    ]);
    expect(JSON.stringify(message.blocks[2])).toContain(`*Id*\\n${campaign.id}`);

    // Both deliveries count as delivered with the services' own answers.
    for (const [id, status] of [
      [toTeams.id, 202],
      [toSlack.id, 200],
    ] as const) {
      const r = await t.call('GET', `/webhooks/${id}/deliveries`, { token });
      const deliveries = (
        r.json as { deliveries: { state: string; attempts: { status: number }[] }[] }
      ).deliveries;
      expect(deliveries.map((d) => [d.state, d.attempts.at(-1)?.status])).toEqual([
        ['delivered', status],
      ]);
    }
  });
});
