import type { Redis } from '../shared/redis.js';
import type { CampaignControl } from '../control/campaign-control.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import type { Lanes } from '../lanes/lanes.js';
import type { Clock } from '../shared/clock.js';
import type { TenantRegistry } from '../tenants/tenant-registry.js';
import type { DestinationGuard } from '../webhooks/webhook-destination.js';
import type { WebhookStore } from '../webhooks/webhook-store.js';
import type { GuessThrottle } from '../shared/guess-throttle.js';
import type { DenialRecorder } from '../audit/audit-denials.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { EvidenceSourceDeps } from '../control/evidence-sources.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { ApiToken, TokenStore } from './tokens/token-store.js';

/**
 * The kill switch of issue 12 (lifecycle): cancels the MachineActions a campaign already sent.
 * A port, so the API works without it and answers 501 for `cancel {actions: true}` until it is
 * wired in; its result is passed through to the client as is.
 */
export type CancelActions = (campaignId: string) => Promise<Record<string, unknown>>;

export interface ApiSettings {
  rateLimitMax: number;
  rateLimitWindowMs: number;
  bodyLimit: number;
}

/** Everything the `/api/v1` routes use; built from a runtime by `apiDepsFromRuntime`. */
export interface ApiDeps {
  redis: Redis;
  prefix: string;
  store: RedisCampaignStore;
  lanes: Lanes;
  tenants: Pick<TenantRegistry, 'names' | 'get'>;
  control: CampaignControl;
  cancelActions?: CancelActions | undefined;
  /** A tenant's Graph client, for `hunting`/`incident`/`alert` sources; without it they answer 501. */
  graph?: ((tenant: string) => EvidenceSourceDeps['graph']) | undefined;
  tokens: TokenStore;
  audit: AuditLog;
  /** Refusals as counted audit entries, and the `security.denials` alert. */
  denials: DenialRecorder;
  /** Failed token checks per client address (in this process). */
  guesses: GuessThrottle;
  idempotency: IdempotencyStore;
  webhooks: WebhookStore;
  /** Refuses internal webhook receivers at subscribe time, as deliveries do. */
  guard: DestinationGuard;
  settings: ApiSettings;
  clock: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token that authenticated the request (null on public routes). */
    apiToken: ApiToken | null;
    /** sha256 of the body as received (hex; '' without a body), for the Idempotency-Key fingerprint. */
    rawBody: string;
    idempotencyClaim: { key: string; fingerprint: string } | null;
    /** What a write acted on, for the audit log (set by the route once it knows). */
    auditTarget: string;
    auditDetail: string;
    /** Why the request was refused, for the collapsed denial entry. */
    denialReason: string;
  }
  interface FastifyContextConfig {
    scope?: 'read' | 'write' | 'public';
    audit?: string | null;
  }
}
