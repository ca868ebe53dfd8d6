import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Logger } from '../shared/logger.js';
import type { ActionTracker, RoundResult } from './action-tracker.js';
import type { LifecycleStore } from './lifecycle-store.js';

export interface TenantTrackingDeps {
  store: Pick<CampaignStore, 'listCampaigns'>;
  lifecycle: Pick<LifecycleStore, 'get'>;
  /**
   * The tracker of one tenant (its client, its share of its budget, its lock); called once per
   * tenant, on the first round that has work for it. May throw (unknown tenant, no credentials):
   * that tenant is skipped this round and the others go on.
   */
  trackerFor(tenant: string): ActionTracker;
  log: Logger;
}

/**
 * The tenants with a campaign whose tracking has not ended (neither settled nor past the
 * horizon): only they get a round. The tracker re-reads each campaign under its lock.
 */
async function tenantsToTrack(deps: TenantTrackingDeps): Promise<string[]> {
  const tenants = new Set<string>();
  for (const campaign of await deps.store.listCampaigns()) {
    if (tenants.has(campaign.tenant)) continue;
    const lifecycle = await deps.lifecycle.get(campaign.id);
    if (lifecycle.settledAt === null && lifecycle.trackingEndedAt === null) {
      tenants.add(campaign.tenant);
    }
  }
  return [...tenants];
}

/**
 * Runs tracker rounds every `intervalMs` in this process, one per tenant with campaigns still
 * tracked (every worker runs this; each tenant's fenced lock lets one process work for that
 * tenant per round). Tenants run independently: a tenant whose round is still going (a slow API,
 * a token that keeps failing) is skipped at the next tick, never waited for, so it delays no other
 * tenant. `stop()` waits for the rounds in flight and frees the locks.
 */
export function startActionTracker(deps: TenantTrackingDeps, intervalMs: number) {
  const { log } = deps;
  let stopped = false;
  let listing: Promise<void> | null = null;
  const trackers = new Map<string, ActionTracker>();
  const running = new Map<string, Promise<RoundResult | null>>();

  const trackerOf = (tenant: string): ActionTracker | null => {
    const known = trackers.get(tenant);
    if (known) return known;
    try {
      const built = deps.trackerFor(tenant);
      trackers.set(tenant, built);
      return built;
    } catch (error) {
      log.warn(
        { tenant, reason: error instanceof Error ? error.message : String(error) },
        "tenant's campaigns are not tracked this round",
      );
      return null;
    }
  };

  /** Starts the tenant's round unless one is still going; resolves to its result (null: none). */
  const startRound = (tenant: string): Promise<RoundResult | null> => {
    const inFlight = running.get(tenant);
    if (inFlight) return inFlight;
    const tracker = trackerOf(tenant);
    if (!tracker) return Promise.resolve(null);
    const round = tracker
      .runRound()
      .then((r) => {
        if (r.ran && (r.changed > 0 || r.settled.length > 0)) {
          log.debug(
            { tenant, changed: r.changed, listed: r.listed, settled: r.settled },
            'tracker round',
          );
        }
        return r;
      })
      .catch((error: unknown) => {
        log.warn(
          { tenant, reason: error instanceof Error ? error.message : String(error) },
          'tracker round failed',
        );
        return null;
      })
      .finally(() => {
        running.delete(tenant);
      });
    running.set(tenant, round);
    return round;
  };

  const tick = () => {
    if (stopped || listing) return;
    listing = tenantsToTrack(deps)
      .then((tenants) => {
        if (!stopped) for (const tenant of tenants) void startRound(tenant);
      })
      .catch((error: unknown) => {
        log.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'tracker could not list campaigns',
        );
      })
      .finally(() => {
        listing = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    /**
     * Runs one round now for every tenant with campaigns still tracked (tests, `--once`), each
     * independently; resolves once all have ended, with each tenant's result (null: no round,
     * the tracker could not be built or the round failed).
     */
    async runRound(): Promise<Map<string, RoundResult | null>> {
      const tenants = await tenantsToTrack(deps);
      const results = await Promise.all(tenants.map((tenant) => startRound(tenant)));
      return new Map(tenants.map((tenant, i) => [tenant, results[i] ?? null]));
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await listing;
      await Promise.all(running.values());
      await Promise.all(
        [...trackers.values()].map((tracker) => tracker.release().catch(() => undefined)),
      );
    },
  };
}

export type RunningTracker = ReturnType<typeof startActionTracker>;
