import { PRIORITIES } from '../../campaigns/campaign.js';
import { SCAN_TYPES } from '../../defender/machine-action.js';
import { formatLimit } from '../start/read-upload.js';
import type { StartSourceKind } from '../start/start-form.js';
import { html, type SafeHtml } from '../../web/html.js';
import { layout, type SignedIn } from './layout.js';

/** How each source reads in the form's picker, in `fleetscan scan`'s words. */
const SOURCE_LABELS: Readonly<Record<StartSourceKind, string>> = {
  list: 'Device ids: paste them or upload a CSV, text, JSON or NDJSON file (--devices)',
  query: 'Defender query: a List Machines $filter (--query)',
  tag: 'Tags: devices carrying any of them (--tag)',
  group: 'Device group (--group)',
  all: 'Every device of the tenant (--all)',
  hunting: 'Advanced hunting query: devices of its DeviceId column (--hunting, --hunting-file)',
  incident: "Defender XDR incident: the devices in its alerts' evidence (--incident)",
  alert: 'One alert: the devices in its evidence (--alert)',
};

export interface NewCampaignPageInput {
  tenants: readonly string[];
  sources: readonly StartSourceKind[];
  /** The largest device list taken (`api.bodyLimit`), said beside the upload. */
  bodyLimit: number;
  actionToken: string;
  /** The person in the header. */
  person?: SignedIn | null | undefined;
}

function options(values: readonly string[], selected?: string): SafeHtml[] {
  return values.map(
    (v) => html`<option value="${v}" ${v === selected ? html`selected` : ''}>${v}</option>`,
  );
}

/** The fields each source needs; the page script shows the chosen source's. */
function sourceFields(bodyLimit: number): SafeHtml {
  return html`<fieldset data-source-fields="list">
      <legend>Device ids</legend>
      <label
        >Paste machine ids, one a line (or a whole CSV)
        <textarea name="ids" rows="6" spellcheck="false"></textarea>
      </label>
      <label
        >or upload a file (up to ${formatLimit(bodyLimit)}, api.bodyLimit)
        <input type="file" name="upload" accept=".csv,.txt,.json,.ndjson,.jsonl,text/*" />
      </label>
      <label
        >Id column or key (default: machineId, deviceId, "Device ID", id)
        <input type="text" name="column" />
      </label>
      <p class="note">
        Lines that are not machine ids are left out and named by number in the preview.
      </p>
    </fieldset>
    <fieldset data-source-fields="query" hidden>
      <legend>Defender query</legend>
      <label
        >$filter <input type="text" name="query" placeholder="healthStatus eq 'Active'"
      /></label>
    </fieldset>
    <fieldset data-source-fields="tag" hidden>
      <legend>Tags</legend>
      <label>Tags, one a line or comma-separated <textarea name="tags" rows="3"></textarea></label>
    </fieldset>
    <fieldset data-source-fields="group" hidden>
      <legend>Device group</legend>
      <label>rbacGroupName <input type="text" name="group" /></label>
    </fieldset>
    <fieldset data-source-fields="hunting" hidden>
      <legend>Advanced hunting query</legend>
      <label
        >KQL returning a DeviceId column (read through Microsoft Graph, ThreatHunting.Read.All)
        <textarea name="kql" rows="5" spellcheck="false"></textarea>
      </label>
      <label
        >or a file holding it <input type="file" name="huntingFile" accept=".kql,.txt,text/*"
      /></label>
    </fieldset>
    <fieldset data-source-fields="incident" hidden>
      <legend>Incident</legend>
      <label>Incident number <input type="text" name="incident" placeholder="4711" /></label>
    </fieldset>
    <fieldset data-source-fields="alert" hidden>
      <legend>Alert</legend>
      <label
        >Alert id <input type="text" name="alert" placeholder="da638000000000000001_-7919"
      /></label>
    </fieldset>
    <fieldset data-source-fields="query tag group all" hidden>
      <label class="check"
        ><input type="checkbox" name="includeInactive" value="1" /> also devices not seen for 7 days
        (they only queue a pending scan)</label
      >
    </fieldset>`;
}

/**
 * The new-campaign page: where the devices come from, tenant, class, scan type, window, name and
 * comment; "Preview" shows what a campaign would hold (nothing is created), and its confirm
 * button starts it and opens its page. The page script sends the list or file as the request
 * body and the fields in the query string, with the action token.
 */
export function newCampaignPage(input: NewCampaignPageInput): string {
  return layout({
    title: 'New campaign',
    allowActions: true,
    person: input.person,
    body: html`<p class="crumbs"><a href="/">← All campaigns</a></p>
      <section class="panel new-campaign">
        <h2>New campaign</h2>
        <form id="new-campaign" data-csrf="${input.actionToken}" novalidate>
          <label
            >Devices from
            <select name="source">
              ${input.sources.map((s) => html`<option value="${s}">${SOURCE_LABELS[s]}</option>`)}
            </select>
          </label>
          ${sourceFields(input.bodyLimit)}
          <div class="form-grid">
            <label
              >Tenant
              <select name="tenant">
                ${options(input.tenants)}
              </select></label
            >
            <label
              >Class
              <select name="priority">
                ${options(PRIORITIES, 'normal')}
              </select></label
            >
            <label
              >Scan type
              <select name="scanType">
                ${options(SCAN_TYPES, 'Quick')}
              </select></label
            >
            <label
              >Window (optional)
              <input type="text" name="window" placeholder="22:00-05:00 Europe/Berlin"
            /></label>
            <label>Name (optional) <input type="text" name="name" maxlength="200" /></label>
            <label
              >Comment (recorded with every MachineAction)
              <input type="text" name="comment" maxlength="1000" required
            /></label>
          </div>
          <button type="submit" class="btn btn-preview">Preview</button>
          <p class="refusal-message" id="start-error" role="alert" hidden></p>
        </form>
      </section>
      <div id="preview" aria-live="polite"></div>
      <script src="/static/new-campaign.js" defer></script>`,
  });
}
