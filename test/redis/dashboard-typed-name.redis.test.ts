import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

const TOKEN = 'test-token-0123456789';
const headers = {
  authorization: `Bearer ${TOKEN}`,
  'content-type': 'application/x-www-form-urlencoded',
  host: 'dash.example:3000',
  origin: 'http://dash.example:3000',
};

let fx: DashboardFixture;
let app: FastifyInstance;
beforeEach(() => {
  fx = dashboardFixture();
});
afterEach(async () => {
  await app.close();
  await fx.close();
});

async function setUp(killed: string[]) {
  app = await buildDashboard(
    fx.deps({
      allowActions: true,
      cancelActions: (id: string) => {
        killed.push(id);
        return Promise.resolve({ cancelled: 2 });
      },
      audit: createAuditLog(fx.redis, fx.prefix),
    }),
  );
  const seeded = await seedCampaign(fx.store, {
    name: 'Incident 4711 sweep',
    total: 3,
    requested: 2,
    failed: 0,
    deferred: 0,
  });
  const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const post = (action: string, typed: string | null, accept = '*/*') =>
    app.inject({
      method: 'POST',
      url: `/campaigns/${seeded.id}/${action}`,
      headers: { ...headers, accept },
      payload:
        `csrf=${encodeURIComponent(csrf)}` +
        (typed === null ? '' : `&confirmName=${encodeURIComponent(typed)}`),
    });
  return { seeded, page, post };
}

describe('cancel and the kill switch ask for the campaign name', () => {
  it('shows a name field on both forms, and none on pause', async () => {
    const { page } = await setUp([]);
    for (const action of ['cancel', 'cancel-actions']) {
      expect(page.body).toMatch(
        new RegExp(
          `action="/campaigns/[^"]+/${action}"[^>]*>[\\s\\S]*?data-confirm-name="Incident 4711 sweep"`,
        ),
      );
    }
    const pause = /<form[^>]*\/pause"[\s\S]*?<\/form>/.exec(page.body)?.[0] ?? '';
    expect(pause).toContain('Pause');
    expect(pause).not.toContain('confirmName');
  });

  it.each([
    ['cancel', null, 'Type the campaign\'s name "Incident 4711 sweep" to cancel it'],
    ['cancel', 'Incident 4711', '"Incident 4711" is not this campaign\'s name.'],
    ['cancel', 'incident 4711 sweep', "is not this campaign's name"],
    ['cancel-actions', '', 'to press the kill switch; nothing was done.'],
    ['cancel-actions', 'Weekly sweep', '"Weekly sweep" is not this campaign\'s name.'],
  ] as const)('refuses %s with the name %j and changes nothing', async (action, typed, says) => {
    const killed: string[] = [];
    const { seeded, post } = await setUp(killed);
    const res = await post(action, typed, 'application/json');
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: string }>().error).toContain(says);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('running');
    expect(killed).toEqual([]);
    const [entry] = await createAuditLog(fx.redis, fx.prefix).list();
    expect([entry?.action, entry?.outcome, entry?.target]).toEqual([
      'campaign.cancel',
      'refused',
      seeded.id,
    ]);
    expect(entry?.detail).toContain(says);
  });

  it('answers a browser with a page saying what to type, and the way back', async () => {
    const { seeded, post } = await setUp([]);
    const res = await post('cancel', 'nope', 'text/html,application/xhtml+xml');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain(
      '&quot;nope&quot; is not this campaign&#39;s name. Type the campaign&#39;s name &quot;Incident 4711 sweep&quot; to cancel it; nothing was done.',
    );
    expect(res.body).toContain(`href="/campaigns/${seeded.id}"`);
  });

  it('cancels, and presses the kill switch, once the name is typed (spaces around forgiven)', async () => {
    const killed: string[] = [];
    const { seeded, post } = await setUp(killed);
    expect((await post('cancel-actions', ' Incident 4711 sweep ')).statusCode).toBe(303);
    expect(killed).toEqual([seeded.id]);
    expect((await post('cancel', 'Incident 4711 sweep')).statusCode).toBe(303);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('cancelled');
  });
});
