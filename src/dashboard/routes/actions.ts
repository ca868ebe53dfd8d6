import type { FastifyInstance } from 'fastify';
import type { CampaignStore } from '../../campaigns/campaign-store.js';
import type { ActionToken } from '../csrf.js';
import type { CampaignControl } from '../dashboard-deps.js';

const TARGET_STATE = { pause: 'paused', resume: 'running', cancel: 'cancelled' } as const;
type ActionName = keyof typeof TARGET_STATE;

function isActionName(value: string): value is ActionName {
  return Object.hasOwn(TARGET_STATE, value);
}

export interface ActionRouteDeps {
  store: CampaignStore;
  control: CampaignControl;
  token: ActionToken;
  /** `cancel-actions`: the kill switch (src/control); the route exists only when given. */
  cancelActions?: ((campaignId: string) => Promise<unknown>) | undefined;
  /** `retry-failed`: hands the failed devices back (src/control/retry-failed.ts); the route exists only when given. */
  retryFailed?: ((campaignId: string) => Promise<unknown>) | undefined;
}

/**
 * Pause / resume / cancel (plus the kill switch and retry of failed devices), registered only with `--allow-actions`, so without it the routes do
 * not exist at all. The global hooks have already checked credentials and the request's origin;
 * the form's token is checked here as well.
 */
export function registerActionRoutes(app: FastifyInstance, deps: ActionRouteDeps): void {
  // Plain HTML forms post urlencoded bodies, which fastify does not parse by itself.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4_096 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  app.post<{ Params: { id: string; action: string }; Body: Record<string, unknown> | undefined }>(
    '/campaigns/:id/:action',
    async (request, reply) => {
      const { id, action } = request.params;
      const operation =
        action === 'cancel-actions'
          ? deps.cancelActions
          : action === 'retry-failed'
            ? deps.retryFailed
            : undefined;
      if (!isActionName(action) && !operation)
        return reply.code(404).send({ error: 'unknown action' });
      const candidate = request.body?.['csrf'] ?? request.headers['x-csrf-token'];
      if (!deps.token.verify(candidate)) {
        return reply.code(403).send({ error: 'missing or wrong action token' });
      }
      if (!(await deps.store.getCampaign(id)))
        return reply.code(404).send({ error: 'no such campaign' });
      if (operation) await operation(id);
      else if (isActionName(action)) await deps.control.setState(id, TARGET_STATE[action]);
      request.log.info({ campaignId: id, action }, 'campaign changed from the dashboard');
      return reply.redirect(`/campaigns/${id}`, 303);
    },
  );
}
