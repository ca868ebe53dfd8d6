import type { CampaignState, DeviceRecord } from '../../campaigns/campaign.js';
import type { LiveWorker } from '../../ops/worker-presence.js';
import type { CampaignView } from '../overview.js';
import { campaignCard } from './campaign-card.js';
import { deviceTable, type DeviceQuery } from './device-table.js';
import { findingsTable } from './findings-table.js';
import type { CampaignFindings } from '../../tracking/lifecycle-store.js';
import { html, type SafeHtml } from '../../web/html.js';
import { layout, type SignedIn } from './layout.js';
import { noWorkersBanner } from './no-workers-banner.js';
import { NAME_CONFIRMED_ACTIONS } from '../typed-name.js';
import { retryableFailures } from '../../control/retry-failed.js';

const ACTIONS = [
  { action: 'pause', label: 'Pause', from: ['running'] },
  { action: 'resume', label: 'Resume', from: ['paused'] },
  { action: 'cancel', label: 'Cancel campaign', from: ['running', 'paused'] },
  {
    action: 'retry-failed',
    label: 'Retry failed devices',
    from: ['running', 'paused', 'finished'],
  },
  {
    action: 'cancel-actions',
    label: 'Cancel pending actions in Defender',
    from: ['running', 'paused', 'cancelled', 'finished'],
  },
] as const satisfies readonly { action: string; label: string; from: readonly CampaignState[] }[];

/**
 * What a form asks before it posts: cancel and the kill switch want the campaign's name typed
 * (checked by the server too), retry a confirmation.
 */
function confirmation(a: (typeof ACTIONS)[number], campaign: CampaignView['campaign']): SafeHtml {
  const what = NAME_CONFIRMED_ACTIONS[a.action];
  if (what !== undefined) {
    return html`<label class="confirm-name"
      >Type <b>${campaign.name}</b> to ${what}:
      <input
        type="text"
        name="confirmName"
        data-confirm-name="${campaign.name}"
        autocomplete="off"
        spellcheck="false"
        required
    /></label>`;
  }
  return html``;
}

/** Buttons are plain forms carrying the action token; the ones that cannot be undone ask first. */
function actionForms(view: CampaignView, actionToken: string, retryOffered: boolean): SafeHtml {
  const { campaign } = view;
  const { retryable, permanent } = retryableFailures(campaign.failuresByReason);
  const available = ACTIONS.filter(
    (a) =>
      (a.from as readonly CampaignState[]).includes(campaign.state) &&
      (a.action !== 'retry-failed' || (retryOffered && retryable > 0)),
  );
  const staying =
    permanent > 0
      ? ` ${String(permanent)} with a permanent failure (unsupported platform or client, unknown device) stay failed.`
      : '';
  if (available.length === 0) return html``;
  return html`<div class="actions">
    ${available.map(
      (a) =>
        html`<form
          class="action-${a.action}"
          method="post"
          action="/campaigns/${campaign.id}/${a.action}"
          ${a.action === 'retry-failed' ? html`data-confirm="Retry ${String(retryable)} failed ${retryable === 1 ? 'device' : 'devices'} of ${campaign.name}?${staying} Devices that may already have an action are looked up first."` : ''}
        >
          <input type="hidden" name="csrf" value="${actionToken}" />
          ${confirmation(a, campaign)}
          <button type="submit" class="btn btn-${a.action}">${a.label}</button>
        </form>`,
    )}
  </div>`;
}

/** The live summary on a campaign page (the device table is not replaced while someone reads it). */
export function campaignFragment(
  view: CampaignView,
  actionToken: string | null,
  retryOffered = false,
  workers?: readonly LiveWorker[],
): SafeHtml {
  return html`${noWorkersBanner(workers)}${campaignCard(view, false)}${actionToken ? actionForms(view, actionToken, retryOffered) : ''}`;
}

export interface CampaignPageInput {
  view: CampaignView;
  devices: readonly DeviceRecord[];
  query: DeviceQuery;
  next: string | null;
  /** Present only with `--allow-actions`. */
  actionToken: string | null;
  /** The dashboard can retry failed devices (`DashboardDeps.retryFailed`). */
  retryOffered?: boolean;
  /** Live workers, when heartbeats are read: none alive puts up the banner. */
  workers?: readonly LiveWorker[] | undefined;
  /** Who is signed in, for the header. */
  person?: SignedIn | null | undefined;
  /** What the scans found (last verify) and the devices with detections, when read. */
  findings?: { summary: CampaignFindings | null; devices: readonly DeviceRecord[] } | undefined;
}

export function campaignPage(input: CampaignPageInput): string {
  const { view } = input;
  const id = view.campaign.id;
  return layout({
    title: view.campaign.name,
    allowActions: input.actionToken !== null,
    person: input.person,
    body: html`<p class="crumbs"><a href="/">← All campaigns</a></p>
      <div data-live="/fragments/campaigns/${id}" data-events="/events/campaigns/${id}">
        ${campaignFragment(view, input.actionToken, input.retryOffered, input.workers)}
      </div>
      ${input.findings ? findingsTable(id, input.findings.summary, input.findings.devices) : ''}
      ${deviceTable(id, input.devices, input.query, input.next)}`,
  });
}
