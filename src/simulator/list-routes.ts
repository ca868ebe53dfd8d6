import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiRoute } from './api-call.js';
import { apiError, type ApiResult } from './api-error.js';
import { ACTION_FILTER, MACHINE_FILTER, type ActionAt } from './api-filters.js';
import { machineView } from './fleet.js';
import { actionView } from './machine-actions.js';
import {
  compileFilter,
  ODataFilterError,
  type FilterSchema,
  type Predicate,
} from './odata-filter.js';
import type { TokenIdentity } from './access-tokens.js';
import type { SimContext } from './sim-context.js';
import { reachesMachine } from './sim-users.js';

const MAX_TOP = 10_000;
const QUERY_KEYS = ['$filter', '$top', '$skip'];

interface ListQuery<T> {
  predicate: Predicate<T> | undefined;
  filter: string | undefined;
  top: number;
  skip: number;
}

/** Validates `$filter`, `$top` and `$skip`; anything else in the query is refused. */
function readListQuery<T>(
  request: FastifyRequest,
  schema: FilterSchema<T>,
  defaultTop: number,
): ListQuery<T> | ApiResult {
  const query = request.query as Record<string, unknown>;
  for (const [key, value] of Object.entries(query)) {
    if (!QUERY_KEYS.includes(key))
      return apiError(400, 'ODataError', `The query parameter '${key}' is not supported.`);
    if (typeof value !== 'string')
      return apiError(400, 'ODataError', `The query parameter '${key}' is given more than once.`);
  }
  const text = (name: string): string | undefined => {
    const value = query[name];
    return typeof value === 'string' ? value : undefined;
  };
  const topText = text('$top');
  const skipText = text('$skip');
  if (
    topText !== undefined &&
    !(/^\d{1,6}$/.test(topText) && Number(topText) >= 1 && Number(topText) <= MAX_TOP)
  ) {
    return apiError(
      400,
      'ODataError',
      `Invalid $top '${topText}': expected an integer from 1 to ${MAX_TOP}.`,
    );
  }
  if (skipText !== undefined && !/^\d{1,9}$/.test(skipText)) {
    return apiError(
      400,
      'ODataError',
      `Invalid $skip '${skipText}': expected a non-negative integer.`,
    );
  }
  const filter = text('$filter');
  let predicate: Predicate<T> | undefined;
  if (filter !== undefined) {
    try {
      predicate = compileFilter(filter, schema);
    } catch (error) {
      if (error instanceof ODataFilterError)
        return apiError(400, 'ODataError', `Invalid filter clause: ${error.message}`);
      throw error;
    }
  }
  return {
    predicate,
    filter,
    top: topText === undefined ? defaultTop : Number(topText),
    skip: skipText === undefined ? 0 : Number(skipText),
  };
}

/** One page of `items`, with `@odata.nextLink` when more follow. */
function page<T>(
  ctx: SimContext,
  request: FastifyRequest,
  entitySet: string,
  query: ListQuery<T>,
  items: readonly unknown[],
): ApiResult {
  if (items.length === 0 && ctx.opts.emptyListAs404) {
    return apiError(404, 'ResourceNotFound', `No ${entitySet} matched.`);
  }
  const base = `${request.protocol}://${request.host}`;
  const path = request.url.split('?')[0] ?? '';
  const value = items.slice(query.skip, query.skip + query.top);
  const body: Record<string, unknown> = {
    '@odata.context': `${base}/api/$metadata#${entitySet}`,
    value,
  };
  if (query.skip + query.top < items.length) {
    const params = [
      ...(query.filter === undefined ? [] : [`$filter=${encodeURIComponent(query.filter)}`]),
      `$top=${query.top}`,
      `$skip=${query.skip + query.top}`,
    ];
    body['@odata.nextLink'] = `${base}${path}?${params.join('&')}`;
  }
  return { status: 200, body };
}

function listMachines(
  ctx: SimContext,
  request: FastifyRequest,
  identity: TokenIdentity,
): ApiResult {
  const query = readListQuery(request, MACHINE_FILTER, ctx.opts.defaultPageSize);
  if ('status' in query) return query;
  // A signed-in user sees only the devices of their device groups.
  const visible = ctx.machineList.filter((m) => reachesMachine(ctx.delegated.users, identity, m));
  const matched = query.predicate ? visible.filter(query.predicate) : visible;
  const views = matched.map(machineView);
  return page(ctx, request, 'Machines', query, views);
}

function listMachineActions(
  ctx: SimContext,
  request: FastifyRequest,
  identity: TokenIdentity,
): ApiResult {
  const query = readListQuery(request, ACTION_FILTER, ctx.opts.defaultPageSize);
  if ('status' in query) return query;
  const nowMs = ctx.now();
  const all: ActionAt[] = ctx.actions
    .all()
    .filter((action) => {
      const machine = ctx.machines.get(action.machineId);
      return machine !== undefined && reachesMachine(ctx.delegated.users, identity, machine);
    })
    .map((action) => ({ action, nowMs }));
  const matched = query.predicate ? all.filter(query.predicate) : all;
  return page(
    ctx,
    request,
    'MachineActions',
    query,
    matched.map((a) => actionView(a.action, nowMs)),
  );
}

/** Registers the two collection routes (`$filter`, `$top`, `$skip`, `@odata.nextLink`). */
export function registerListRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.get(
    '/api/machines',
    apiRoute(ctx, 'machines', (r, i) => listMachines(ctx, r, i)),
  );
  app.get(
    '/api/machineactions',
    apiRoute(ctx, 'machineActions', (r, i) => listMachineActions(ctx, r, i)),
  );
}
