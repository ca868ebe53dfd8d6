import type { FastifyRequest } from 'fastify';
import type { Campaign } from '../../campaigns/campaign.js';
import type { ApiDeps } from '../api-deps.js';
import { ApiProblem } from '../problem.js';
import { allowsTenant } from '../tokens/token-store.js';

/**
 * The campaign a request names, when its token may see it. A campaign of another tenant answers
 * 404 like a missing one, so a tenant-limited token cannot learn what other tenants run.
 */
export async function campaignFor(
  deps: Pick<ApiDeps, 'store'>,
  request: FastifyRequest,
  id: string,
): Promise<Campaign> {
  const campaign = await deps.store.getCampaign(id);
  const token = request.apiToken;
  if (!campaign || !token || !allowsTenant(token, campaign.tenant)) {
    throw new ApiProblem('not-found', `No campaign ${id}`);
  }
  return campaign;
}
