import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog, AuditOutcome } from '../../audit/audit-log.js';
import { audited, recordAudit, type AuditSink } from '../../audit/record-audit.js';
import type { ApiToken, TokenStore } from '../../api/tokens/token-store.js';
import { SCHEDULE_NAME, type FireRecord } from '../../schedules/schedule.js';
import type { ScheduleStore } from '../../schedules/schedule-store.js';
import { scheduleView } from '../../schedules/schedule-view.js';
import type { Clock } from '../../shared/clock.js';
import {
  DestinationRefusedError,
  type DestinationGuard,
} from '../../webhooks/webhook-destination.js';
import type { WebhookStore } from '../../webhooks/webhook-store.js';
import {
  AdminFormError,
  parseScheduleForm,
  parseTokenForm,
  parseWebhookForm,
  type FormBody,
} from '../admin/admin-forms.js';
import type { ActionToken } from '../csrf.js';
import { schedulesPage } from '../pages/admin/schedules-page.js';
import { createdTokenPage, tokensPage } from '../pages/admin/tokens-page.js';
import { createdWebhookPage, webhooksPage } from '../pages/admin/webhooks-page.js';
import { requireRole } from '../roles.js';
import { dashboardActor, sendRefusal } from './actions.js';

/**
 * What the admin pages manage: the same stores (and the same webhook destination guard) as
 * `fleetscan token`, the automation API's `/webhooks` and `fleetscan schedule`.
 */
export interface AdminDeps {
  tokens: TokenStore;
  webhooks: WebhookStore;
  /** The API's SSRF guard: a receiver it refuses is refused here with its reason. */
  guard: DestinationGuard;
  schedules: ScheduleStore;
  /** Scheduled time now (`schedules.timeScale`), as `fleetscan schedule` reads it. */
  scheduleNow: () => number;
  /** Where a new schedule's relative `devices` path is resolved (the working directory). */
  baseDir: string;
  /**
   * "Run now": `fleetscan schedule trigger` from the dashboard's process (its devices resolved
   * through Defender, its campaign started, the run in the history); `createdBy` goes on the
   * campaign. Left out, the button is not offered.
   */
  runSchedule?: ((name: string, createdBy: string) => Promise<ScheduleRun>) | undefined;
}

/** What "Run now" did: the run's history entry, or why it was refused before anything ran. */
export type ScheduleRun = { ran: true; entry: FireRecord } | { ran: false; message: string };

export interface AdminRouteDeps extends AdminDeps {
  token: ActionToken;
  clock: Clock;
  /** Every write, done or refused, is audited here (source `dashboard`, the person's UPN and oid). */
  audit?: AuditLog | undefined;
}

/** A write refused before anything changed: answered with its status and message. */
class AdminRefused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const TOKEN_ID = /^[0-9a-f]{10}$/;
const WEBHOOK_ID = /^wh-[0-9a-f]{10}$/;

type Params = Record<string, string>;
type AdminRequest = FastifyRequest<{ Params: Params; Body: FormBody | undefined }>;

/** A write route: its audit action, its target, and what it does (throws AdminRefused). */
interface AdminWrite<T> {
  url: string;
  action: string;
  target: (request: AdminRequest, result?: T) => string;
  detail?: (result: T) => string;
  /** A result that is itself a failure (a run that could not resolve its devices). */
  outcome?: (result: T) => AuditOutcome;
  run: (request: AdminRequest) => Promise<T>;
  answer: (request: AdminRequest, reply: FastifyReply, result: T) => unknown;
}

function sendPage(reply: FastifyReply, page: string) {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

/** The form's error as a refusal naming the field; other errors go on unchanged. */
function formRefusal(error: unknown): never {
  if (error instanceof AdminFormError) throw new AdminRefused(400, error.message);
  throw error;
}

/**
 * `/admin/tokens`, `/admin/webhooks` and `/admin/schedules`: pages and writes for the admin role
 * only, registered only where writes are on (Entra sign-in or `--allow-actions`). Every write
 * checks the action token and is audited with the person's UPN and object id, refusals too; bad
 * input is answered with a page naming the field, and nothing is written.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const sinkFor = (request: FastifyRequest): AuditSink | null =>
    deps.audit
      ? {
          log: deps.audit,
          actor: dashboardActor(request),
          now: () => deps.clock.now(),
          isRefusal: (error) => error instanceof AdminRefused,
          onUnrecorded: (error) => {
            request.log.error({ err: error }, 'audit record not written');
          },
        }
      : null;
  const writes = new Map<string, { action: string; target: (r: AdminRequest) => string }>();
  // A person without the admin role is refused before the token or the form is looked at; a
  // refused write is audited (who tried what, and which role was missing), a page view is not.
  const adminOnly = requireRole('admin', async (request, message) => {
    const write = writes.get(request.routeOptions.url ?? '');
    const sink = sinkFor(request);
    if (!write || !sink || request.method !== 'POST') return;
    await recordAudit(sink, {
      action: write.action,
      target: write.target(request as AdminRequest),
      outcome: 'refused',
      status: 403,
      detail: message,
    });
  });

  const page = (url: string, render: (request: AdminRequest) => Promise<string>) => {
    app.get<{ Params: Params }>(url, { preHandler: adminOnly }, async (request, reply) =>
      sendPage(reply, await render(request as AdminRequest)),
    );
  };

  const write = <T>(w: AdminWrite<T>) => {
    writes.set(w.url, { action: w.action, target: (r) => w.target(r) });
    app.post<{ Params: Params; Body: FormBody | undefined }>(
      w.url,
      { preHandler: adminOnly },
      async (request, reply) => {
        const run = async () => {
          if (!deps.token.verify(request.body?.['csrf'] ?? request.headers['x-csrf-token'])) {
            throw new AdminRefused(403, 'missing or wrong action token');
          }
          return w.run(request);
        };
        const sink = sinkFor(request);
        // A target known from the URL is recorded on refusals too; one made by the write (a new
        // token's id) only once it exists.
        const known = w.target(request);
        let result: T;
        try {
          result = sink
            ? await audited(
                sink,
                {
                  action: w.action,
                  target: known !== '' ? known : (r: T) => w.target(request, r),
                  ...(w.detail ? { detail: w.detail } : {}),
                  ...(w.outcome ? { outcome: w.outcome } : {}),
                },
                run,
              )
            : await run();
        } catch (error) {
          if (error instanceof AdminRefused) {
            return sendRefusal(request, reply, error.status, error.message);
          }
          throw error;
        }
        request.log.info({ action: w.action, target: w.target(request, result) }, 'admin write');
        return w.answer(request, reply, result);
      },
    );
  };

  // ---- API tokens (`fleetscan token`) ----
  page('/admin/tokens', async (request) =>
    tokensPage({
      tokens: await deps.tokens.list(),
      actionToken: deps.token.token,
      now: deps.clock.now(),
      person: request.person,
    }),
  );
  write({
    url: '/admin/tokens',
    action: 'token.create',
    target: (_r, created?: Awaited<ReturnType<TokenStore['create']>>) => created?.token.id ?? '',
    detail: (c) =>
      `${c.token.name} [${c.token.scopes.join(',')}]` +
      (c.token.expiresAt === null ? '' : ` expires ${new Date(c.token.expiresAt).toISOString()}`),
    run: async (request) => {
      const now = deps.clock.now();
      let form;
      try {
        form = parseTokenForm(request.body ?? {}, now);
      } catch (error) {
        formRefusal(error);
      }
      const taken = (await deps.tokens.list()).some(
        (t) => t.name === form.name && t.revokedAt === null,
      );
      if (taken) {
        throw new AdminRefused(
          400,
          `name: a token named "${form.name}" exists already; revoke it or pick another name`,
        );
      }
      return deps.tokens.create({ ...form, createdBy: dashboardActor(request).who, now });
    },
    answer: (request, reply, created) =>
      sendPage(reply, createdTokenPage(created.token, created.secret, request.person)),
  });
  write<ApiToken>({
    url: '/admin/tokens/:id/revoke',
    action: 'token.revoke',
    target: (r) => r.params['id'] ?? '',
    detail: (t) => t.name,
    run: async (request) => {
      const id = request.params['id'] ?? '';
      if (!TOKEN_ID.test(id)) throw new AdminRefused(404, `id: no token ${id}`);
      const revoked = await deps.tokens.revoke(id, deps.clock.now());
      if (!revoked) throw new AdminRefused(404, `id: no token ${id}`);
      return revoked;
    },
    answer: (_r, reply) => reply.redirect('/admin/tokens', 303),
  });

  // ---- Webhook subscriptions (the API's `/webhooks`) ----
  page('/admin/webhooks', async (request) => {
    const subscriptions = await deps.webhooks.list();
    const rows = await Promise.all(
      subscriptions.map(async (subscription) => ({
        subscription,
        last: (await deps.webhooks.deliveries(subscription.id, { limit: 1 }))[0] ?? null,
      })),
    );
    return webhooksPage({ rows, actionToken: deps.token.token, person: request.person });
  });
  write({
    url: '/admin/webhooks',
    action: 'webhook.create',
    target: (_r, created?: Awaited<ReturnType<WebhookStore['subscribe']>>) =>
      created?.subscription.id ?? '',
    detail: ({ subscription: s }) =>
      `${s.events.join(',')} -> ${new URL(s.url).origin} (${s.format})`,
    run: async (request) => {
      let form;
      try {
        form = parseWebhookForm(request.body ?? {});
      } catch (error) {
        formRefusal(error);
      }
      try {
        await deps.guard.resolve(form.url);
      } catch (error) {
        if (error instanceof DestinationRefusedError) {
          throw new AdminRefused(400, `url: ${error.message}`);
        }
        throw error;
      }
      return deps.webhooks.subscribe({
        ...form,
        campaignId: null,
        createdAt: deps.clock.now(),
        createdBy: dashboardActor(request).who,
      });
    },
    answer: (request, reply, created) =>
      sendPage(reply, createdWebhookPage(created.subscription, created.secret, request.person)),
  });
  write({
    url: '/admin/webhooks/:id/remove',
    action: 'webhook.delete',
    target: (r) => r.params['id'] ?? '',
    run: async (request) => {
      const id = request.params['id'] ?? '';
      if (!WEBHOOK_ID.test(id) || !(await deps.webhooks.unsubscribe(id))) {
        throw new AdminRefused(404, `id: no subscription ${id}`);
      }
      return id;
    },
    answer: (_r, reply) => reply.redirect('/admin/webhooks', 303),
  });

  // ---- Schedules (`fleetscan schedule`) ----
  page('/admin/schedules', async (request) => {
    const views = await Promise.all(
      (await deps.schedules.list()).map(async (s) =>
        scheduleView(s, (await deps.schedules.history(s.spec.name, 1))[0] ?? null),
      ),
    );
    return schedulesPage({
      views,
      actionToken: deps.token.token,
      runOffered: deps.runSchedule !== undefined,
      person: request.person,
    });
  });
  write({
    url: '/admin/schedules',
    action: 'schedule.create',
    target: (_r, spec?: ReturnType<typeof parseScheduleForm>) => spec?.name ?? '',
    detail: (spec) => `${spec.cron} (${spec.tz})`,
    run: async (request) => {
      let spec;
      try {
        spec = parseScheduleForm(request.body ?? {}, deps.baseDir);
      } catch (error) {
        formRefusal(error);
      }
      if (await deps.schedules.get(spec.name)) {
        throw new AdminRefused(
          400,
          `name: a schedule named "${spec.name}" exists; remove it first or change it with \`fleetscan schedule apply\``,
        );
      }
      await deps.schedules.put(spec, deps.scheduleNow());
      return spec;
    },
    answer: (_r, reply) => reply.redirect('/admin/schedules', 303),
  });
  const scheduleNamed = async (request: AdminRequest) => {
    const name = request.params['name'] ?? '';
    if (!SCHEDULE_NAME.test(name) || !(await deps.schedules.get(name))) {
      throw new AdminRefused(404, `name: no schedule "${name}"`);
    }
    return name;
  };
  const scheduleTarget = (r: AdminRequest) => r.params['name'] ?? '';
  write<string | null>({
    url: '/admin/schedules/:name/pause',
    action: 'schedule.pause',
    target: scheduleTarget,
    detail: (note) => note ?? '',
    run: async (request) => {
      const name = await scheduleNamed(request);
      const raw = request.body?.['note'];
      const note = typeof raw === 'string' && raw.trim() !== '' ? raw.trim().slice(0, 200) : null;
      await deps.schedules.setPaused(name, true, note, deps.scheduleNow());
      return note;
    },
    answer: (_r, reply) => reply.redirect('/admin/schedules', 303),
  });
  write({
    url: '/admin/schedules/:name/resume',
    action: 'schedule.resume',
    target: scheduleTarget,
    run: async (request) => {
      const name = await scheduleNamed(request);
      await deps.schedules.setPaused(name, false, null, deps.scheduleNow());
      return name;
    },
    answer: (_r, reply) => reply.redirect('/admin/schedules', 303),
  });
  write({
    url: '/admin/schedules/:name/remove',
    action: 'schedule.remove',
    target: scheduleTarget,
    run: async (request) => {
      const name = await scheduleNamed(request);
      await deps.schedules.remove(name);
      return name;
    },
    answer: (_r, reply) => reply.redirect('/admin/schedules', 303),
  });
  const runSchedule = deps.runSchedule;
  if (runSchedule) {
    write<FireRecord>({
      url: '/admin/schedules/:name/run',
      action: 'schedule.trigger',
      target: scheduleTarget,
      detail: (e) =>
        e.outcome === 'started'
          ? `started ${e.campaignId ?? ''}`
          : `${e.outcome}: ${e.reason ?? ''}`,
      outcome: (e) => (e.outcome === 'started' ? 'ok' : 'failed'),
      run: async (request) => {
        const name = await scheduleNamed(request);
        const run = await runSchedule(name, dashboardActor(request).who);
        if (!run.ran) throw new AdminRefused(409, `name: ${run.message}`);
        return run.entry;
      },
      answer: (request, reply, entry) =>
        entry.outcome === 'started' && entry.campaignId !== null
          ? reply.redirect(`/campaigns/${entry.campaignId}`, 303)
          : sendRefusal(
              request,
              reply,
              502,
              `Run now: ${entry.outcome}${entry.reason ? `: ${entry.reason}` : ''}`,
            ),
    });
  }
}
