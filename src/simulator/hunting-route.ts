import type { FastifyInstance, FastifyRequest } from 'fastify';
import { arrivalOf } from './api-call.js';
import { graphError, graphForbidden, sendGraphReply, type GraphReply } from './graph-reply.js';
import { fileEventResults, parseFileEventQuery } from './kql-file-events.js';
import { tableRows } from './hunting-rows.js';
import { quotaMessage } from './throttle.js';
import { parseHuntingQuery } from './kql-subset.js';
import { readJsonObject } from './request-body.js';
import type { SimContext } from './sim-context.js';
import { GRAPH_RESOURCES } from './token-request.js';

const GRAPH_AUDIENCES: ReadonlySet<string> = new Set(GRAPH_RESOURCES);
/** Graph's runHuntingQuery page: ThreatHunting.Read.All, for an app and for a user. */
const HUNTING_PERMISSIONS = ['ThreatHunting.Read.All'];
const TIMESPAN = /^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$/;

function answer(ctx: SimContext, request: FastifyRequest): GraphReply {
  const body = readJsonObject(request, ['Query', 'Timespan'], ['Query']);
  if (!body.ok) return graphError(400, 'BadRequest', body.message);
  const query = body.value['Query'];
  const timespan = body.value['Timespan'];
  if (typeof query !== 'string' || query.trim() === '')
    return graphError(400, 'BadRequest', "'Query' must be a non-empty string.");
  if (timespan !== undefined && (typeof timespan !== 'string' || !TIMESPAN.test(timespan)))
    return graphError(400, 'BadRequest', "'Timespan' must be an ISO 8601 duration.");
  if (/^\s*DeviceFileEvents\b/.test(query)) return answerFileQuery(ctx, query);
  const parsed = parseHuntingQuery(query);
  if (!parsed.ok)
    return graphError(400, 'BadRequest', `Query could not be parsed: ${parsed.message}`);
  const { sourceColumn, tables } = parsed.query;
  // No execution engine here: a query's notional run time grows with the devices it names.
  const devices = Math.max(...tables.map((t) => t.deviceIds.size));
  if (ctx.opts.huntingMsPerDevice * devices > ctx.opts.huntingTimeoutMs)
    return graphError(
      400,
      'BadRequest',
      'Query exceeded the timeout period. Optimize the query and try again.',
    );
  const now = ctx.now();
  // An outer union: every column of every table, null where a table has none, the source first.
  const columns = [
    ...new Set([
      ...(sourceColumn === null ? [] : [sourceColumn]),
      ...tables.flatMap((t) => t.columns),
    ]),
  ];
  const found = tables.flatMap((t) =>
    tableRows(ctx, t, now).map((row) => ({
      ...(sourceColumn === null ? {} : { [sourceColumn]: t.table }),
      ...Object.fromEntries(t.columns.map((c) => [c, row[c] ?? null])),
    })),
  );
  // Past the row limit the answer is cut without a word, as documented ("up to 100,000 rows").
  const rows = found
    .slice(0, ctx.opts.huntingMaxRows)
    .map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
  return huntingResults(columns, rows);
}

/** Graph's `huntingQueryResults`: the schema (column name and type) and the rows. */
function huntingResults(columns: readonly string[], rows: Record<string, unknown>[]): GraphReply {
  return {
    status: 200,
    code: null,
    body: {
      '@odata.context':
        'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults',
      schema: columns.map((name) => ({
        name,
        type: name === 'Timestamp' ? 'DateTime' : name === 'AdditionalFields' ? 'Object' : 'String',
      })),
      results: rows,
    },
  };
}

/** A `DeviceFileEvents` query: the file observations of the last 30 days that match. */
function answerFileQuery(ctx: SimContext, query: string): GraphReply {
  const now = ctx.now();
  const parsed = parseFileEventQuery(query, now);
  if (!parsed.ok)
    return graphError(400, 'BadRequest', `Query could not be parsed: ${parsed.message}`);
  const fromMs = now - 30 * 86_400_000;
  const rows = fileEventResults(
    ctx.fileEvents.filter((row) => row.atMs >= fromMs && row.atMs <= now),
    parsed.query,
  );
  return huntingResults(parsed.query.columns, rows.slice(0, ctx.opts.huntingMaxRows));
}

/**
 * `POST /v1.0/security/runHuntingQuery` (Microsoft Graph): a Graph token (not a Defender one),
 * the hunting budget per tenant (429 + Retry-After, counted on arrival), then the query.
 */
export function registerHuntingRoute(app: FastifyInstance, ctx: SimContext): void {
  /** Queries per tenant in the current CPU-quota cycle. */
  const cpuUsed = new Map<string, { cycle: number; queries: number }>();
  app.post('/v1.0/security/runHuntingQuery', async (request, reply) => {
    const t = arrivalOf(ctx, request);
    const auth = ctx.tokens.check(request.headers.authorization, GRAPH_AUDIENCES);
    const forbidden = auth.ok ? graphForbidden(auth.identity, HUNTING_PERMISSIONS) : undefined;
    let result: GraphReply;
    if (!auth.ok) {
      result = graphError(401, 'InvalidAuthenticationToken', `Access token is ${auth.reason}.`, {
        'www-authenticate': 'Bearer',
      });
    } else if (forbidden) {
      result = forbidden;
    } else {
      const decision = ctx.huntingThrottle.tryAcquire(`${auth.identity.tenantId}|hunting`, t);
      const cycle = Math.floor(t / ctx.opts.huntingCycleMs);
      const used = cpuUsed.get(auth.identity.tenantId);
      const spent = used?.cycle === cycle ? used.queries : 0;
      if (!decision.allowed) {
        result = graphError(
          429,
          'TooManyRequests',
          quotaMessage(decision.window, ctx.opts.timeScale),
          ctx.opts.huntingRetryAfter
            ? { 'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) }
            : {},
        );
      } else if (spent >= ctx.opts.huntingCpuQuota) {
        result = graphError(
          429,
          'TooManyRequests',
          'You have exceeded processing resources allocated to this tenant. You can run queries again after the next 15-minute cycle.',
        );
      } else {
        result = answer(ctx, request);
        if (result.status === 200)
          cpuUsed.set(auth.identity.tenantId, { cycle, queries: spent + 1 });
      }
    }
    await sendGraphReply(ctx, { request, reply, t, family: 'hunting', auth }, result);
  });
}
