import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiRoute } from './api-call.js';
import type { ApiResult } from './api-error.js';
import { ACTION_FILTER, MACHINE_FILTER, type ActionAt } from './api-filters.js';
import { machineView } from './fleet.js';
import { listAnswer, readListQuery } from './list-paging.js';
import { actionView } from './machine-actions.js';
import type { TokenIdentity } from './access-tokens.js';
import { takeOrderAndCount, withCount } from './odata-options.js';
import type { SimContext } from './sim-context.js';
import { reachesMachine } from './sim-users.js';

function listMachines(
  ctx: SimContext,
  request: FastifyRequest,
  identity: TokenIdentity,
): ApiResult {
  const options = takeOrderAndCount(request, MACHINE_FILTER);
  if ('status' in options) return options;
  const query = readListQuery(request, MACHINE_FILTER);
  if ('status' in query) return query;
  // A signed-in user sees only the devices of their device groups.
  const visible = ctx.machineList.filter((m) => reachesMachine(ctx.delegated.users, identity, m));
  const filtered = query.predicate ? visible.filter(query.predicate) : visible;
  const matched = options.order ? [...filtered].sort(options.order) : filtered;
  const answer = listAnswer(ctx, request, 'Machines', query, matched.map(machineView), true);
  return options.count ? withCount(answer, matched.length) : answer;
}

function listMachineActions(
  ctx: SimContext,
  request: FastifyRequest,
  identity: TokenIdentity,
): ApiResult {
  const options = takeOrderAndCount(request, ACTION_FILTER);
  if ('status' in options) return options;
  const query = readListQuery(request, ACTION_FILTER);
  if ('status' in query) return query;
  const nowMs = ctx.now();
  const all: ActionAt[] = ctx.actions
    .all()
    .filter((action) => {
      const machine = ctx.machines.get(action.machineId);
      return machine !== undefined && reachesMachine(ctx.delegated.users, identity, machine);
    })
    .map((action) => ({ action, nowMs }));
  const filtered = query.predicate ? all.filter(query.predicate) : all;
  // "Latest" first, as the List MachineActions example: by creation time, then the later-added;
  // a `$orderby` sorts that order again (stably).
  const newestFirst = filtered
    .map((a, order) => ({ a, order }))
    .sort((x, y) => y.a.action.createdMs - x.a.action.createdMs || y.order - x.order)
    .map(({ a }) => a);
  const matched = options.order ? newestFirst.sort(options.order) : newestFirst;
  const answer = listAnswer(
    ctx,
    request,
    'MachineActions',
    query,
    matched.map((a) => actionView(a.action, nowMs)),
    ctx.opts.emptyListAs404,
  );
  return options.count ? withCount(answer, matched.length) : answer;
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
