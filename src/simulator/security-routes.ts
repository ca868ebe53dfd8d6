import type { FastifyInstance, FastifyRequest } from 'fastify';
import { arrivalOf } from './api-call.js';
import { graphError, graphForbidden, sendGraphReply, type GraphReply } from './graph-reply.js';
import type { SimContext } from './sim-context.js';
import { GRAPH_RESOURCES } from './token-request.js';

const GRAPH_AUDIENCES: ReadonlySet<string> = new Set(GRAPH_RESOURCES);
const CONTEXT = 'https://graph.microsoft.com/v1.0/$metadata#security';
/** Microsoft Graph v1.0 "Get incident": application SecurityIncident.Read.All or ReadWrite.All. */
const INCIDENT_PERMISSIONS = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
/** Microsoft Graph v1.0 "Get alert": application SecurityAlert.Read.All or ReadWrite.All. */
const ALERT_PERMISSIONS = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All'];

/** Query options other than `allowed` are refused, so a client cannot lean on one unknowingly. */
function refusedOption(
  request: FastifyRequest,
  allowed: readonly string[],
): GraphReply | undefined {
  const query = request.query as Record<string, unknown>;
  const extra = Object.keys(query).find((key) => !allowed.includes(key));
  if (extra !== undefined)
    return graphError(400, 'BadRequest', `Query option '${extra}' is not supported here.`);
  return undefined;
}

function incidentReply(ctx: SimContext, request: FastifyRequest): GraphReply {
  const { id } = request.params as { id: string };
  const refused = refusedOption(request, ['$expand']);
  if (refused) return refused;
  const expand = (request.query as Record<string, unknown>)['$expand'];
  if (expand !== undefined && expand !== 'alerts')
    return graphError(
      400,
      'BadRequest',
      `Could not find a property named '${JSON.stringify(expand)}' on type 'microsoft.graph.security.incident'.`,
    );
  if (!/^\d{1,19}$/.test(id))
    return graphError(400, 'BadRequest', `'${id.slice(0, 60)}' is not a valid incident id.`);
  const incident = ctx.security.incident(id);
  if (!incident) return graphError(404, 'NotFound', `Incident ${id} was not found.`);
  const body =
    expand === 'alerts'
      ? {
          '@odata.context': `${CONTEXT}/incidents(alerts())/$entity`,
          ...incident,
          alerts: ctx.security.alerts(id),
        }
      : { '@odata.context': `${CONTEXT}/incidents/$entity`, ...incident };
  return { status: 200, code: null, body };
}

function alertReply(ctx: SimContext, request: FastifyRequest): GraphReply {
  const { id } = request.params as { id: string };
  const refused = refusedOption(request, []);
  if (refused) return refused;
  const alert = ctx.security.alert(id);
  if (!alert) return graphError(404, 'NotFound', `Alert ${id.slice(0, 200)} was not found.`);
  return {
    status: 200,
    code: null,
    body: { '@odata.context': `${CONTEXT}/alerts_v2/$entity`, ...alert },
  };
}

/**
 * Microsoft Graph's security incidents and alerts (v1.0): `GET /security/incidents/{id}`
 * (`$expand=alerts` for the alerts and their evidence) and `GET /security/alerts_v2/{id}`.
 * A Graph token, then the permission (403 naming it), then the answer or 404.
 */
export function registerSecurityRoutes(app: FastifyInstance, ctx: SimContext): void {
  const route = (
    url: string,
    needed: readonly string[],
    answer: (ctx: SimContext, request: FastifyRequest) => GraphReply,
  ) => {
    app.get(url, async (request, reply) => {
      const t = arrivalOf(ctx, request);
      const auth = ctx.tokens.check(request.headers.authorization, GRAPH_AUDIENCES);
      const result = !auth.ok
        ? graphError(401, 'InvalidAuthenticationToken', `Access token is ${auth.reason}.`, {
            'www-authenticate': 'Bearer',
          })
        : (graphForbidden(auth.identity, needed) ?? answer(ctx, request));
      await sendGraphReply(ctx, { request, reply, t, family: 'security', auth }, result);
    });
  };
  route('/v1.0/security/incidents/:id', INCIDENT_PERMISSIONS, incidentReply);
  route('/v1.0/security/alerts_v2/:id', ALERT_PERMISSIONS, alertReply);
}
