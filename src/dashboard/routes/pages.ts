import { hasRole } from '../roles.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DEVICE_STATES, type DeviceRecord, type DeviceState } from '../../campaigns/campaign.js';
import type { CampaignFindings } from '../../tracking/lifecycle-store.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { FINDINGS_SHOWN, worstFirst } from '../pages/findings-table.js';
import type { CampaignStore } from '../../campaigns/campaign-store.js';
import { readCampaignView, readOverview, type OverviewDeps } from '../overview.js';
import { campaignFragment, campaignPage } from '../pages/campaign-page.js';
import { campaignsPage, overviewFragment } from '../pages/campaigns-page.js';
import type { DeviceQuery } from '../pages/device-table.js';
import { OVERVIEW_FEED } from './live.js';

export interface PageRouteDeps extends OverviewDeps {
  store: CampaignStore;
  /** The action token when actions are allowed, else null (no buttons rendered). */
  actionToken: string | null;
  /** Offer the "Retry failed devices" button (with the action token). */
  retryOffered: boolean;
  /** Link the new-campaign page (`/campaigns/new`) from the campaigns page. */
  startOffered?: boolean | undefined;
}

const PAGE_SIZE = 50;

interface CampaignParams {
  id: string;
}

interface DeviceQueryString {
  state?: string;
  search?: string;
  cursor?: string;
}

/** Only known states, hex search text and numeric HSCAN cursors get through to the store. */
export function parseDeviceQuery(query: DeviceQueryString): DeviceQuery {
  const state = DEVICE_STATES.find((s) => s === query.state);
  const search = query.search?.trim().toLowerCase().slice(0, 40);
  return {
    state: state satisfies DeviceState | undefined,
    search: search && /^[0-9a-f]+$/.test(search) ? search : undefined,
    cursor: query.cursor && /^\d{1,20}$/.test(query.cursor) ? query.cursor : null,
  };
}

function sendHtml(reply: FastifyReply, body: string) {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/**
 * What the live feeds send (routes/live.ts): the overview fragment, or a campaign page's summary
 * (null once the campaign is gone), rendered once per read for every viewer.
 */
export function liveFragments(deps: PageRouteDeps): (key: string) => Promise<string | null> {
  return async (key) => {
    if (key === OVERVIEW_FEED) return overviewFragment(await readOverview(deps)).value;
    const found = await readCampaignView(deps, key.slice(key.indexOf(':') + 1));
    if (!found) return null;
    return campaignFragment(found.view, deps.actionToken, deps.retryOffered, found.workers).value;
  };
}

/**
 * Server-rendered pages and the fragments the page script swaps in when server-sent events are
 * not available (routes/live.ts sends the same fragments).
 */
export function registerPageRoutes(app: FastifyInstance, deps: PageRouteDeps): void {
  const notFound = (reply: FastifyReply) =>
    reply.code(404).type('text/plain').send('No such campaign');

  app.get('/', async (request, reply) => {
    const overview = await readOverview(deps);
    return sendHtml(
      reply,
      campaignsPage(
        overview,
        deps.actionToken !== null,
        // Only people who may start one see the button (the page itself checks the role too).
        deps.startOffered === true && hasRole(request.person, 'operator'),
        request.person,
      ),
    );
  });

  app.get('/fragments/overview', async (_request, reply) => {
    return sendHtml(reply, overviewFragment(await readOverview(deps)).value);
  });

  app.get<{ Params: CampaignParams; Querystring: DeviceQueryString }>(
    '/campaigns/:id',
    async (request, reply) => {
      const found = await readCampaignView(deps, request.params.id);
      if (!found) return notFound(reply);
      const query = parseDeviceQuery(request.query);
      const page = await deps.store.listDevices(request.params.id, {
        state: query.state,
        search: query.search,
        cursor: query.cursor,
        limit: PAGE_SIZE,
      });
      return sendHtml(
        reply,
        campaignPage({
          view: found.view,
          devices: page.devices,
          query,
          next: page.cursor,
          actionToken: deps.actionToken,
          retryOffered: deps.retryOffered,
          workers: found.workers,
          person: request.person,
          findings: await readFindings(deps, request.params.id),
        }),
      );
    },
  );

  app.get<{ Params: CampaignParams }>('/fragments/campaigns/:id', async (request, reply) => {
    const found = await readCampaignView(deps, request.params.id);
    if (!found) return notFound(reply);
    return sendHtml(
      reply,
      campaignFragment(found.view, deps.actionToken, deps.retryOffered, found.workers).value,
    );
  });
}

/**
 * The campaign's findings for its page: the last verify's summary, and (only when it found
 * something) one pass over the devices for those with detections, the list kept bounded.
 */
async function readFindings(
  deps: Pick<DashboardDeps, 'lifecycle' | 'store'>,
  campaignId: string,
): Promise<{ summary: CampaignFindings | null; devices: DeviceRecord[] } | undefined> {
  if (!deps.lifecycle) return undefined;
  const summary = (await deps.lifecycle(campaignId)).findings;
  let devices: DeviceRecord[] = [];
  if (summary !== null && summary.devices > 0) {
    for await (const d of deps.store.iterateDevices(campaignId)) {
      if ((d.threats?.count ?? 0) === 0) continue;
      devices.push(d);
      if (devices.length >= 2 * FINDINGS_SHOWN)
        devices = devices.sort(worstFirst).slice(0, FINDINGS_SHOWN);
    }
  }
  return { summary, devices };
}
