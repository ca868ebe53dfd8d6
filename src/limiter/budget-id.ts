import type { Config } from '../config/schema.js';

/** The config fields that name a budget: one per (cloud, tenant, app). */
export type BudgetIdentity = Pick<Config['defender'], 'cloud' | 'tenantId' | 'clientId'>;

/**
 * The id of the API budget this config spends: Microsoft counts calls per application + tenant
 * pair, and each cloud is a separate service. A static token has no known tenant or app, so all
 * static-token runs of one cloud share one budget (the safe side). Every process must build the
 * id here, or two spellings of one tenant would get two budgets and twice the rate: Entra reads
 * tenant and client ids (GUIDs, domain names) without regard to case, so they are lowercased.
 */
export function budgetIdFor(config: { readonly defender: BudgetIdentity }): string {
  const { cloud, tenantId, clientId } = config.defender;
  return `${cloud}:${canonical(tenantId)}:${canonical(clientId)}`;
}

function canonical(id: string | undefined): string {
  return id === undefined ? 'static-token' : id.trim().toLowerCase();
}
