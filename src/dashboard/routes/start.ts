import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { audited, recordAudit, type AuditSink } from '../../audit/record-audit.js';
import type { StartedCampaign } from '../../control/start-campaign.js';
import type { ActionToken } from '../csrf.js';
import { newCampaignPage } from '../pages/new-campaign-page.js';
import { previewPanel } from '../pages/preview-panel.js';
import { requireRole } from '../roles.js';
import type { CampaignStarter } from '../start/campaign-starter.js';
import type { Upload } from '../start/read-upload.js';
import { parseStartForm, StartFormError, type StartForm } from '../start/start-form.js';
import { StartRefused } from '../start/start-refused.js';
import { dashboardActor } from './actions.js';

export interface StartRouteDeps {
  starter: CampaignStarter;
  token: ActionToken;
  /** Every start, done or refused, is audited here (`campaign.create`, source `dashboard`). */
  audit?: AuditLog | undefined;
}

/** The body type the page script sends a device list as (a pasted list or a file, as it is). */
const LIST_TYPE = 'application/octet-stream';

/** The fields and the device list of a preview or start request, checked; throws StartRefused. */
function readRequest(
  request: FastifyRequest,
  deps: StartRouteDeps,
): { form: StartForm; upload: Upload | null } {
  if (!deps.token.verify(request.headers['x-csrf-token'])) {
    throw new StartRefused(403, 'missing or wrong action token');
  }
  let form: StartForm;
  try {
    form = parseStartForm((request.query ?? {}) as Record<string, unknown>, deps.starter.tenants);
  } catch (error) {
    if (error instanceof StartFormError) throw new StartRefused(400, error.message);
    throw error;
  }
  const body = request.body as AsyncIterable<Buffer> | undefined;
  const upload =
    body && typeof body === 'object' && Symbol.asyncIterator in body
      ? { chunks: body, contentLength: request.headers['content-length'] }
      : null;
  return { form, upload };
}

function refused(reply: FastifyReply, error: unknown) {
  if (!(error instanceof StartRefused)) throw error;
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .send({ error: error.message });
}

/**
 * The new-campaign page, its preview (a dry run: creates nothing) and the start. For people
 * with the operator role, with `--allow-actions`; every POST carries the action token in
 * `x-csrf-token` (and passed the global same-origin check). The device list is the request body,
 * the form's fields the query string.
 */
export function registerStartRoutes(app: FastifyInstance, deps: StartRouteDeps): void {
  const sinkFor = (request: FastifyRequest): AuditSink | null =>
    deps.audit
      ? {
          log: deps.audit,
          actor: dashboardActor(request),
          isRefusal: (error) => error instanceof StartRefused,
          onUnrecorded: (error) => {
            request.log.error({ err: error }, 'audit record not written');
          },
        }
      : null;
  const operatorOnly = requireRole('operator', async (request, message) => {
    const sink = sinkFor(request);
    if (!sink || request.method !== 'POST' || !request.url.startsWith('/campaigns/new/start'))
      return;
    await recordAudit(sink, {
      action: 'campaign.create',
      outcome: 'refused',
      status: 403,
      detail: message,
    });
  });

  void app.register((scope, _options, registered) => {
    // The list arrives as it is (a file's bytes); `readUpload` meters it against api.bodyLimit.
    scope.addContentTypeParser(LIST_TYPE, (_request, payload, done) => {
      done(null, payload);
    });

    scope.get('/campaigns/new', { preHandler: operatorOnly }, (request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          newCampaignPage({
            tenants: deps.starter.tenants,
            sources: deps.starter.sources,
            bodyLimit: deps.starter.bodyLimit,
            actionToken: deps.token.token,
            person: request.person,
          }),
        ),
    );

    scope.post('/campaigns/new/preview', { preHandler: operatorOnly }, async (request, reply) => {
      try {
        const { form, upload } = readRequest(request, deps);
        const preview = await deps.starter.preview(form, upload);
        return await reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(previewPanel(preview, form).value);
      } catch (error) {
        return refused(reply, error);
      }
    });

    scope.post('/campaigns/new/start', { preHandler: operatorOnly }, async (request, reply) => {
      const sink = sinkFor(request);
      const run = async () => {
        const { form, upload } = readRequest(request, deps);
        return deps.starter.start(form, upload, dashboardActor(request).who);
      };
      try {
        const started = await (sink
          ? audited(
              sink,
              {
                action: 'campaign.create',
                target: (s: StartedCampaign) => s.campaign.id,
                detail: (s: StartedCampaign) =>
                  `${String(s.accepted)} devices from ${s.campaign.source}` +
                  (s.invalid > 0 ? `, ${String(s.invalid)} invalid lines left out` : ''),
              },
              run,
            )
          : run());
        request.log.info(
          { campaignId: started.campaign.id },
          'campaign started from the dashboard',
        );
        const location = `/campaigns/${started.campaign.id}`;
        return await reply
          .code(201)
          .header('location', location)
          .send({ campaignId: started.campaign.id, location, accepted: started.accepted });
      } catch (error) {
        return refused(reply, error);
      }
    });
    registered();
  });
}
