import { Readable } from 'node:stream';
import type { RedisCampaignStore } from '../../campaigns/redis-campaign-store.js';
import { ConfigError } from '../../config/load.js';
import {
  checkEvidenceTarget,
  EvidenceError,
  openEvidenceSource,
  type EvidenceSourceDeps,
  type EvidenceTarget,
} from '../../control/evidence-sources.js';
import { previewScan, type ScanPreview } from '../../control/scan-preview.js';
import { describeTargets, fileScanSource, targetScanSource } from '../../control/scan-sources.js';
import {
  startCampaign,
  StartCampaignError,
  type ScanSource,
  type StartedCampaign,
} from '../../control/start-campaign.js';
import type { Lanes } from '../../lanes/lanes.js';
import { DeviceFileError, TargetQueryError } from '../../producer/sources/errors.js';
import { readDeviceFile } from '../../producer/sources/read-device-file.js';
import { resolveTargets } from '../../producer/sources/resolve-targets.js';
import { recordIntake } from '../../reports/intake-record.js';
import { admitDevices, RedisMemoryFullError } from '../../retention/admit-devices.js';
import { memoryHeadroom, type MemorySettings } from '../../retention/memory-headroom.js';
import type { Redis } from '../../shared/redis.js';
import { UnknownTenantError, type TenantRegistry } from '../../tenants/tenant-registry.js';
import { START_SOURCES, type StartForm, type StartSourceKind } from './start-form.js';
import { readUpload, type Upload } from './read-upload.js';
import { StartRefused } from './start-refused.js';

export interface CampaignStarterDeps {
  store: RedisCampaignStore;
  lanes: Pick<Lanes, 'forTenant'>;
  tenants: Pick<TenantRegistry, 'names' | 'get'>;
  redis: Redis;
  /** `redis.prefix`: where the intake record (skips by reason, for the report) is kept. */
  prefix: string;
  /** `retention.memory`: a campaign Redis cannot hold is refused before it exists, as `scan` does. */
  memory: MemorySettings;
  /** `api.bodyLimit`: the largest device list taken, as the automation API takes it. */
  bodyLimit: number;
  now?: (() => number) | undefined;
  /**
   * Graph for a tenant (`graphClientFromConfig` of its configuration), closed after each read:
   * the hunting, incident and alert sources. Left out, the form does not offer them.
   */
  evidence?: ((tenant: string) => EvidenceGraph) | undefined;
}

/** What the evidence sources need of a Graph client, and its release. */
export type EvidenceGraph = EvidenceSourceDeps['graph'] & { close(): void };

const EVIDENCE_KINDS: readonly StartSourceKind[] = ['hunting', 'incident', 'alert'];

/** Starting campaigns from the dashboard: a preview that creates nothing, then the start. */
export interface CampaignStarter {
  readonly tenants: readonly string[];
  readonly sources: readonly StartSourceKind[];
  readonly bodyLimit: number;
  preview(form: StartForm, upload: Upload | null): Promise<ScanPreview>;
  start(form: StartForm, upload: Upload | null, createdBy: string): Promise<StartedCampaign>;
}

/**
 * The dashboard's way into the one campaign path (`startCampaign`, behind `fleetscan scan`, schedules
 * and the API), with the CLI's parts: device lists through `readDeviceFile` (invalid lines are
 * reported by number and left out, as `scan --devices` does), targets through List Machines with
 * the same skip rules, the preview through `previewScan` (what `scan --dry-run` prints), and the
 * Redis memory check before the campaign exists.
 */
export function createCampaignStarter(deps: CampaignStarterDeps): CampaignStarter {
  const refuse = (error: unknown): never => {
    throw asRefusal(error);
  };
  const open = async (form: StartForm, upload: Upload | null): Promise<ScanSource> =>
    openSource(deps, form, upload).catch(refuse);

  return {
    tenants: deps.tenants.names,
    sources: deps.evidence
      ? START_SOURCES
      : START_SOURCES.filter((kind) => !EVIDENCE_KINDS.includes(kind)),
    bodyLimit: deps.bodyLimit,
    async preview(form, upload) {
      const source = await open(form, upload);
      const [usage] = await deps.tenants.get(form.tenant).limiter.usage('scan');
      const windows = (usage?.windows ?? []).map(({ cap, windowMs, used }) => ({
        cap,
        windowMs,
        used,
      }));
      return previewScan(source, { windows }).catch(refuse);
    },
    async start(form, upload, createdBy) {
      const source = await open(form, upload);
      try {
        const headroom = await memoryHeadroom(deps.redis, deps.memory);
        const admitted = await admitDevices(source.chunks, headroom, deps.memory);
        const started = await startCampaign(
          { store: deps.store, lanes: deps.lanes, now: deps.now },
          {
            source: { ...source, chunks: admitted },
            scanType: form.scanType,
            comment: form.comment,
            name: form.name,
            createdBy,
            tenant: form.tenant,
            priority: form.priority,
            window: form.window,
          },
        );
        await recordIntake(deps.redis, deps.prefix, started.campaign.id, {
          ...started.skipped,
          invalid: started.invalid,
          duplicate: started.duplicate,
        });
        return started;
      } catch (error) {
        return refuse(error);
      }
    },
  };
}

async function openSource(
  deps: CampaignStarterDeps,
  form: StartForm,
  upload: Upload | null,
): Promise<ScanSource> {
  if (form.source === 'list') {
    const bytes = await readUpload(upload, deps.bodyLimit);
    const file = await readDeviceFile(Readable.from([bytes]), {
      name: form.file,
      column: form.column,
    });
    return fileScanSource(file, `file:${form.file}`);
  }
  if (form.source === 'hunting' || form.source === 'incident' || form.source === 'alert') {
    return openEvidence(deps, form, upload);
  }
  const all = form.source === 'all';
  const targets = {
    query: form.source === 'query' ? form.query : undefined,
    tags: form.source === 'tag' ? form.tags : undefined,
    group: form.source === 'group' ? form.group : undefined,
  };
  // The tenant's own client, shared by this process: List Machines spends the tenant's budget.
  const client = deps.tenants.get(form.tenant).client();
  const resolved = resolveTargets(client, { ...targets, includeInactive: form.includeInactive });
  return targetScanSource(resolved, describeTargets({ ...targets, all }));
}

/**
 * `hunting` (the KQL is the request body: a query can be 40,000 characters, too long for a URL),
 * `incident`, `alert`: read through the tenant's Graph now, before anything exists, as `scan` does.
 */
async function openEvidence(
  deps: CampaignStarterDeps,
  form: StartForm,
  upload: Upload | null,
): Promise<ScanSource> {
  if (!deps.evidence) throw new StartRefused(400, `source: ${form.source} is not offered here`);
  const target: EvidenceTarget =
    form.source === 'hunting'
      ? {
          kind: 'hunting',
          query: (await readUpload(upload, deps.bodyLimit, 'the hunting query'))
            .toString('utf8')
            .trim(),
        }
      : { kind: form.source === 'alert' ? 'alert' : 'incident', id: form.evidenceId ?? '' };
  checkEvidenceTarget(target, form.source === 'hunting' ? 'hunting query' : form.source);
  const graph = deps.evidence(form.tenant);
  try {
    return await openEvidenceSource({ graph }, target);
  } finally {
    graph.close();
  }
}

/** The refusal a failure stands for: the user's to fix (400, 413), or thrown on as it is. */
function asRefusal(error: unknown): unknown {
  if (error instanceof StartRefused) return error;
  if (
    error instanceof DeviceFileError ||
    error instanceof TargetQueryError ||
    error instanceof UnknownTenantError ||
    error instanceof EvidenceError
  ) {
    return new StartRefused(400, error.message, { cause: error });
  }
  if (error instanceof ConfigError) {
    return new StartRefused(400, `The tenant has no API credentials: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof RedisMemoryFullError) return new StartRefused(507, error.message);
  if (error instanceof StartCampaignError) {
    return new StartRefused(error.campaignId === null ? 400 : 502, error.message, {
      cause: error,
    });
  }
  return error;
}
