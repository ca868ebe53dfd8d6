import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenIdentity } from './access-tokens.js';
import { apiRoute } from './api-call.js';
import { apiError, type ApiResult } from './api-error.js';
import { machineView, SUPPORTED_PLATFORMS, type SimMachine } from './fleet.js';
import { planEvidence } from './device-events.js';
import { actionView, planScan } from './machine-actions.js';
import { nonEmptyString, readJsonObject } from './request-body.js';
import type { SimContext } from './sim-context.js';
import { mayRemediate, reachesMachine } from './sim-users.js';

const MACHINE_ID = /^[0-9a-f]{40}$/;
const ACTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ENTITY_CONTEXT = '/api/$metadata#MachineActions/$entity';

function param(request: FastifyRequest, name: string): string {
  const params = request.params as Record<string, string | undefined>;
  return params[name] ?? '';
}

function withContext(
  request: FastifyRequest,
  view: Record<string, unknown>,
  suffix: string,
): Record<string, unknown> {
  return { '@odata.context': `${request.protocol}://${request.host}${suffix}`, ...view };
}

/** Windows 10 before 1709 (build 16299) cannot take the command (mde-api.md). */
const FIRST_SCANNABLE_WINDOWS10_BUILD = 16_299;

/** macOS and Linux scan from client 101.98.84 on (Microsoft Learn, "Take response actions on a device"). */
const FIRST_SCANNABLE_MAC_LINUX_CLIENT = [101, 98, 84];

function olderThan(version: string, minimum: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const need = minimum[i] ?? 0;
    if (have !== need) return have < need;
  }
  return false;
}

function tooOldForScan(machine: SimMachine): boolean {
  const build = machine['osBuild'];
  const agent = machine['agentVersion'];
  if (machine.osPlatform === 'macOS' || machine.osPlatform === 'Linux')
    return typeof agent === 'string' && olderThan(agent, FIRST_SCANNABLE_MAC_LINUX_CLIENT);
  return (
    machine.osPlatform === 'Windows10' &&
    typeof build === 'number' &&
    build < FIRST_SCANNABLE_WINDOWS10_BUILD
  );
}

/** `POST /api/machines/{id}/runAntiVirusScan`: strict body, busy devices, platform support. */
function runAntiVirusScan(
  ctx: SimContext,
  request: FastifyRequest,
  identity: TokenIdentity,
): ApiResult {
  const machineId = param(request, 'id');
  if (!MACHINE_ID.test(machineId)) {
    return apiError(400, 'InvalidInput', `Invalid machine id '${machineId.slice(0, 100)}'.`);
  }
  const body = readJsonObject(request, ['Comment', 'ScanType'], ['Comment', 'ScanType']);
  if (!body.ok) return apiError(400, 'InvalidRequestBody', body.message, { machineId });
  const { Comment: comment, ScanType: scanType } = body.value;
  if (!nonEmptyString(comment)) {
    return apiError(400, 'InvalidRequestBody', "'Comment' must be a non-empty string.", {
      machineId,
    });
  }
  if (scanType !== 'Quick' && scanType !== 'Full') {
    return apiError(400, 'InvalidRequestBody', "'ScanType' must be 'Quick' or 'Full'.", {
      machineId,
    });
  }
  const machine = ctx.machines.get(machineId);
  if (!machine)
    return apiError(404, 'ResourceNotFound', `Machine ${machineId} was not found.`, { machineId });
  // A signed-in user acts only within their device groups and with the remediation role; the API
  // documents no answer for this, and 403 is the reading that can never look like success.
  if (!mayRemediate(ctx.delegated.users, identity)) {
    return apiError(
      403,
      'Forbidden',
      'The user does not hold the Active remediation actions role.',
      { machineId },
    );
  }
  if (!reachesMachine(ctx.delegated.users, identity, machine)) {
    return apiError(
      403,
      'Forbidden',
      `The user has no access to machine ${machineId}: it is outside the user's device groups.`,
      { machineId },
    );
  }
  if (!SUPPORTED_PLATFORMS.includes(machine.osPlatform)) {
    return apiError(
      400,
      'OsPlatformNotSupported',
      `Action is not supported on ${machine.osPlatform}.`,
      { machineId },
    );
  }
  if (tooOldForScan(machine)) {
    return apiError(
      400,
      'ClientVersionNotSupported',
      `Action is not supported on ${machine.osPlatform} ${String(machine['osBuild'] ?? machine['agentVersion'])}.`,
      { machineId },
    );
  }
  const now = ctx.now();
  const busy = ctx.actions.unfinishedFor(machineId, now);
  if (busy) {
    if (ctx.random.busy.chance(ctx.opts.existingActionRate)) {
      return {
        status: 201,
        body: withContext(request, actionView(busy, now), ENTITY_CONTEXT),
        machineId,
        existingActionId: busy.id,
      };
    }
    return apiError(400, 'ActiveRequestAlreadyExists', 'Action is already in progress', {
      machineId,
    });
  }
  const fails = ctx.random.outcome.chance(ctx.opts.actionFailureRate);
  const action = ctx.actions.add({
    id: ctx.random.ids.guid(),
    machine,
    requestor: identity.user ?? identity.appId,
    comment,
    scope: scanType,
    requestSource: 'PublicApi',
    createdMs: now,
    transitions: planScan(machine, now, ctx.opts.lifecycle, fails),
  });
  const delivered = action.transitions.find((t) => t.status === 'Succeeded');
  action.evidence = delivered
    ? planEvidence(ctx.random.evidence, ctx.opts.evidence, delivered.atMs)
    : null;
  return {
    status: 201,
    body: withContext(request, actionView(action, now), ENTITY_CONTEXT),
    machineId,
    createdActionId: action.id,
  };
}

function getMachineAction(ctx: SimContext, request: FastifyRequest): ApiResult {
  const id = param(request, 'id');
  if (!ACTION_ID.test(id))
    return apiError(400, 'InvalidInput', `Invalid machine action id '${id.slice(0, 100)}'.`);
  const action = ctx.actions.get(id);
  if (!action) return apiError(404, 'ResourceNotFound', `Machine action ${id} was not found.`);
  return {
    status: 200,
    body: withContext(request, actionView(action, ctx.now()), ENTITY_CONTEXT),
    machineId: action.machineId,
  };
}

/** `POST /api/machineactions/{id}/cancel`: only while the action is unfinished. */
function cancelMachineAction(
  ctx: SimContext,
  request: FastifyRequest,
  identity: TokenIdentity,
): ApiResult {
  const id = param(request, 'id');
  if (!ACTION_ID.test(id))
    return apiError(400, 'InvalidInput', `Invalid machine action id '${id.slice(0, 100)}'.`);
  const body = readJsonObject(request, ['Comment'], ['Comment']);
  if (!body.ok) return apiError(400, 'InvalidRequestBody', body.message);
  const comment = body.value['Comment'];
  if (!nonEmptyString(comment))
    return apiError(400, 'InvalidRequestBody', "'Comment' must be a non-empty string.");
  const action = ctx.actions.get(id);
  if (!action) return apiError(404, 'ResourceNotFound', `Machine action ${id} was not found.`);
  const now = ctx.now();
  const view = actionView(action, now);
  if (view['status'] !== 'Pending' && view['status'] !== 'InProgress') {
    return apiError(
      400,
      'BadRequest',
      `Machine action ${id} cannot be cancelled: its status is ${String(view['status'])}.`,
      {
        machineId: action.machineId,
      },
    );
  }
  ctx.actions.cancel(action, identity.user ?? identity.appId, comment, now);
  return {
    status: 200,
    body: withContext(request, actionView(action, now), ENTITY_CONTEXT),
    machineId: action.machineId,
  };
}

function getMachine(ctx: SimContext, request: FastifyRequest): ApiResult {
  const id = param(request, 'id');
  if (!MACHINE_ID.test(id))
    return apiError(400, 'InvalidInput', `Invalid machine id '${id.slice(0, 100)}'.`);
  const machine = ctx.machines.get(id);
  if (!machine)
    return apiError(404, 'ResourceNotFound', `Machine ${id} was not found.`, { machineId: id });
  return {
    status: 200,
    body: withContext(request, machineView(machine), '/api/$metadata#Machines/$entity'),
    machineId: id,
  };
}

/** Registers the single-resource routes of the API. */
export function registerActionRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.post(
    '/api/machines/:id/runAntiVirusScan',
    apiRoute(ctx, 'scan', (r, i) => runAntiVirusScan(ctx, r, i)),
  );
  app.get(
    '/api/machineactions/:id',
    apiRoute(ctx, 'machineActions', (r) => getMachineAction(ctx, r)),
  );
  app.post(
    '/api/machineactions/:id/cancel',
    apiRoute(ctx, 'cancel', (r, i) => cancelMachineAction(ctx, r, i)),
  );
  app.get(
    '/api/machines/:id',
    apiRoute(ctx, 'machines', (r) => getMachine(ctx, r)),
  );
}
