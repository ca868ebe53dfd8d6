import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { audited, recordAudit, type AuditActor, type AuditSink } from '../../audit/record-audit.js';
import type { CampaignStore } from '../../campaigns/campaign-store.js';
import type { ActionToken } from '../csrf.js';
import { requireRole } from '../roles.js';
import type { CampaignControl } from '../dashboard-deps.js';
import { refusalPage } from '../pages/refusal-page.js';
import { checkTypedName } from '../typed-name.js';

const TARGET_STATE = { pause: 'paused', resume: 'running', cancel: 'cancelled' } as const;
type ActionName = keyof typeof TARGET_STATE;

function isActionName(value: string): value is ActionName {
  return Object.hasOwn(TARGET_STATE, value);
}

/** A refused action: answered with its status, audited as `refused`. */
class Refused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const AUDIT_ACTION: Record<string, string> = {
  'cancel-actions': 'campaign.cancel',
  'retry-failed': 'campaign.retry',
};

/** A refusal as a page for a browser's form post, as `{error}` for a script or a client. */
export function sendRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
) {
  reply.code(status).header('cache-control', 'no-store');
  const accept = request.headers.accept ?? '';
  if (accept.includes('text/html') && !accept.includes('application/json')) {
    return reply
      .type('text/html; charset=utf-8')
      .send(refusalPage(message, request.url, request.person));
  }
  return reply.send({ error: message });
}

/**
 * `dashboard:<upn>` with the Entra object id for a signed-in person; `dashboard:<basic-auth
 * user>`, `dashboard:token` or `dashboard:local` (loopback, no credentials) for the shared ones.
 */
export function dashboardActor(request: FastifyRequest): AuditActor {
  const person = request.person;
  return {
    who: `dashboard:${person?.upn ?? 'local'}`,
    source: 'dashboard',
    from: request.ip,
    ...(person?.oid ? { oid: person.oid } : {}),
  };
}

/** A short detail of what an operation returned (the kill switch's and retry's counts). */
function summarize(result: unknown): string {
  if (typeof result !== 'object' || result === null) return '';
  const counts = Object.entries(result).filter(([, v]) => typeof v === 'number');
  return counts.map(([k, v]) => `${k} ${String(v)}`).join(', ');
}

export interface ActionRouteDeps {
  store: CampaignStore;
  control: CampaignControl;
  token: ActionToken;
  /** `cancel-actions`: the kill switch (src/control); the route exists only when given. */
  cancelActions?: ((campaignId: string) => Promise<unknown>) | undefined;
  /** `retry-failed`: hands the failed devices back (src/control/retry-failed.ts); the route exists only when given. */
  retryFailed?: ((campaignId: string) => Promise<unknown>) | undefined;
  /** Every action, done or refused, is audited here (source `dashboard`). */
  audit?: AuditLog | undefined;
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

  type ActionRequest = FastifyRequest<{ Params: { id: string; action: string } }>;
  const auditAction = (action: string) => AUDIT_ACTION[action] ?? `campaign.${action}`;
  // A person without the operator role is refused before the token or the campaign is looked
  // at, and the refusal is audited like any other (who tried what, and which role was missing).
  const operatorOnly = requireRole('operator', async (request, message) => {
    const { id, action } = (request as ActionRequest).params;
    if (!deps.audit) return;
    await recordAudit(
      {
        log: deps.audit,
        actor: dashboardActor(request),
        onUnrecorded: (error) => {
          request.log.error({ err: error, campaignId: id, action }, 'audit record not written');
        },
      },
      { action: auditAction(action), target: id, outcome: 'refused', status: 403, detail: message },
    );
  });

  app.post<{ Params: { id: string; action: string }; Body: Record<string, unknown> | undefined }>(
    '/campaigns/:id/:action',
    { preHandler: operatorOnly },
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
      const sink: AuditSink | null = deps.audit
        ? {
            log: deps.audit,
            actor: dashboardActor(request),
            isRefusal: (error) => error instanceof Refused,
            onUnrecorded: (error) => {
              request.log.error({ err: error, campaignId: id, action }, 'audit record not written');
            },
          }
        : null;
      const write = { action: auditAction(action), target: id };
      const run = async () => {
        const candidate = request.body?.['csrf'] ?? request.headers['x-csrf-token'];
        if (!deps.token.verify(candidate)) throw new Refused(403, 'missing or wrong action token');
        const campaign = await deps.store.getCampaign(id);
        if (!campaign) throw new Refused(404, 'no such campaign');
        // Cancel and the kill switch cannot be undone: the operator types the campaign's name,
        // checked here as well as in the page (a form posted without the script, a replay).
        const wrongName = checkTypedName(action, campaign.name, request.body?.['confirmName']);
        if (wrongName) throw new Refused(400, wrongName);
        if (operation) return summarize(await operation(id));
        if (isActionName(action)) await deps.control.setState(id, TARGET_STATE[action]);
        return `-> ${TARGET_STATE[action as ActionName]}`;
      };
      try {
        await (sink ? audited(sink, { ...write, detail: (d: string) => d }, run) : run());
      } catch (error) {
        if (error instanceof Refused)
          return sendRefusal(request, reply, error.status, error.message);
        throw error;
      }
      request.log.info({ campaignId: id, action }, 'campaign changed from the dashboard');
      return reply.redirect(`/campaigns/${id}`, 303);
    },
  );
}
