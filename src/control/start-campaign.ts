import { campaignCreatedAt, newCampaignId } from '../campaigns/campaign-id.js';
import {
  DEFAULT_TENANT,
  type Campaign,
  type CampaignMeta,
  type DispatchWindow,
  type Priority,
} from '../campaigns/campaign.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import type { ScanType } from '../defender/machine-action.js';
import { enqueueDevices } from '../producer/enqueue-devices.js';
import type { InvalidEntry } from '../producer/sources/errors.js';
import type { Lanes } from '../lanes/lanes.js';

/** Where a campaign's devices come from, read once; the counts are final after `chunks` ends. */
export interface ScanSource {
  /** `file:devices.csv`, `query:…`, `tag:a,b`, `group:…` (kept on the campaign). */
  description: string;
  chunks: AsyncIterable<string[]>;
  /** Valid ids read (repeats included) or devices selected by the query. */
  valid(): number;
  invalid(): { count: number; lines: InvalidEntry[] };
  skipped(): Record<string, number>;
  /** Host names of the ids yielded since the last call (a file column, or List Machines). */
  takeHostnames(): Map<string, string>;
}

/** What to scan and how: everything a campaign is created with, whoever starts it. */
export interface CampaignRequest {
  source: ScanSource;
  scanType: ScanType;
  /** The operator's comment; the campaign tag is appended to it for the API. */
  comment: string;
  name?: string | undefined;
  /** Re-run into this campaign: adds what is missing, doubles nothing. */
  campaignId?: string | undefined;
  /**
   * With `campaignId`: the id was drawn ahead for a new campaign (a schedule's claimed run), so
   * when no campaign has it yet nothing was ever sent for it and it is created plainly. Without
   * this flag a missing campaign is taken for a lost one (`scan --campaign-id` after a Redis
   * loss) and its devices wait for a lookup of its actions (reconcile) before any call.
   */
  idDrawnAhead?: boolean | undefined;
  /** `user@host`, or the API token's name. */
  createdBy: string;
  /** Default `default` (the single tenant of the MDE_* variables). */
  tenant?: string | undefined;
  /** Default `normal`. */
  priority?: Priority | undefined;
  window?: DispatchWindow | null | undefined;
  /** The schedule that fires this campaign. */
  schedule?: string | null | undefined;
}

export interface StartCampaignDeps {
  store: RedisCampaignStore;
  /** The deployment's lanes; an unknown tenant is refused before anything is written. */
  lanes: Pick<Lanes, 'forTenant'>;
  now?: () => number;
}

export interface StartedCampaign {
  campaign: Campaign;
  /** Devices newly queued by this call. */
  accepted: number;
  invalid: number;
  /** Valid ids that were already in the campaign (repeats in the source, or a re-run). */
  duplicate: number;
  skipped: Record<string, number>;
  invalidLines: InvalidEntry[];
}

/** Why a campaign could not be started; `incomplete` when devices were queued before it failed. */
export class StartCampaignError extends Error {
  override name = 'StartCampaignError';
  readonly campaignId: string | null;
  constructor(message: string, campaignId: string | null, options?: ErrorOptions) {
    super(message, options);
    this.campaignId = campaignId;
  }
}

/**
 * Creates a campaign (or re-opens one for a re-run) and queues its devices: the one code path
 * behind `fleetscan scan`, schedules and the automation API. The source's first chunk is read
 * before the campaign exists, so a source that fails at once leaves nothing behind.
 */
export async function startCampaign(
  deps: StartCampaignDeps,
  request: CampaignRequest,
): Promise<StartedCampaign> {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const { source } = request;
  const existing = request.campaignId ? await store.getCampaign(request.campaignId) : null;
  if (existing?.state === 'cancelled') {
    throw new StartCampaignError(`Campaign ${existing.id} was cancelled; start a new one.`, null);
  }
  const tenant = existing?.tenant ?? request.tenant ?? DEFAULT_TENANT;
  try {
    deps.lanes.forTenant(tenant);
  } catch (error) {
    throw new StartCampaignError((error as Error).message, null, { cause: error });
  }
  if (existing && request.tenant !== undefined && request.tenant !== existing.tenant) {
    throw new StartCampaignError(
      `Campaign ${existing.id} belongs to tenant "${existing.tenant}", not "${request.tenant}".`,
      null,
    );
  }
  const { first, rest } = await peek(source.chunks);
  if (first.done === true && !existing) {
    const { count: invalid } = source.invalid();
    throw new StartCampaignError(
      `No devices to scan in ${source.description}` +
        (invalid > 0 ? ` (${String(invalid)} invalid lines)` : '') +
        '; no campaign was created.',
      null,
    );
  }
  const id = existing?.id ?? request.campaignId ?? newCampaignId();
  const newMeta = campaignMeta(request, tenant, now());
  if (request.campaignId !== undefined) {
    // A re-run: the campaign's records may be incomplete (a crash, a Redis restart or loss), so
    // its devices wait for one batched lookup of its actions before any call (reconcile). A
    // campaign recreated after a loss keeps its creation time, read from its id.
    if (existing) await store.requestReconcile(id);
    else if (request.idDrawnAhead === true) await store.createCampaign(newMeta(id, now()));
    else await store.createForReconcile(newMeta(id, campaignCreatedAt(id) ?? now()));
  } else {
    await store.createCampaign(newMeta(id, now()));
  }
  let accepted: number;
  try {
    ({ accepted } = await enqueueDevices({
      lanes: deps.lanes,
      store,
      campaign: id,
      ids: keepingHostnames(prepend(first, rest), () =>
        store.setHostnames(id, source.takeHostnames()),
      ),
    }));
  } catch (error) {
    throw new StartCampaignError(
      `${(error as Error).message}\nCampaign ${id} is incomplete: fix the cause and run the same ` +
        `command with --campaign-id ${id} to add the rest (nothing is doubled).`,
      id,
      { cause: error },
    );
  }
  const campaign = (await store.getCampaign(id)) ?? existing;
  if (!campaign)
    throw new StartCampaignError(`Campaign ${id} vanished while devices were added`, id);
  const invalid = source.invalid();
  return {
    campaign,
    accepted,
    invalid: invalid.count,
    duplicate: Math.max(0, source.valid() - accepted),
    skipped: source.skipped(),
    invalidLines: invalid.lines,
  };
}

function campaignMeta(
  request: CampaignRequest,
  tenant: string,
  now: number,
): (id: string, createdAt: number) => CampaignMeta {
  return (id, createdAt) => ({
    id,
    name: request.name ?? `${request.scanType} scan ${new Date(now).toISOString().slice(0, 16)}Z`,
    scanType: request.scanType,
    comment: `${request.comment} [fleetscan:${id}]`,
    createdAt,
    createdBy: request.createdBy,
    source: request.source.description,
    tenant,
    priority: request.priority ?? 'normal',
    window: request.window ?? null,
    schedule: request.schedule ?? null,
  });
}

async function peek<T>(items: AsyncIterable<T>) {
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { first, rest: iterator };
}

/** Stores the host names of each chunk before handing the chunk on (bounded memory). */
async function* keepingHostnames<T>(
  chunks: AsyncIterable<T>,
  save: () => Promise<void>,
): AsyncIterable<T> {
  for await (const chunk of chunks) {
    await save();
    yield chunk;
  }
}

async function* prepend<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterable<T> {
  if (first.done === true) return;
  yield first.value;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
}
