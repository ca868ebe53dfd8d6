import type { Machine, MachineAction } from './machine-action.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A MachineAction as the API sent it, every field kept, with `lastUpdateDateTimeUtc` filled from
 * the documented alias `lastUpdateTimeUtc` (both are kept). Undefined when it is not an action.
 */
export function toMachineAction(value: unknown): MachineAction | undefined {
  if (!isRecord(value) || typeof value['id'] !== 'string') return undefined;
  const action = { ...value } as MachineAction;
  const alias = value['lastUpdateTimeUtc'];
  if (action.lastUpdateDateTimeUtc == null && typeof alias === 'string') {
    action.lastUpdateDateTimeUtc = alias;
  }
  return action;
}

/** A Machine as the API sent it, every field kept. Undefined when it is not a machine. */
export function toMachine(value: unknown): Machine | undefined {
  if (!isRecord(value) || typeof value['id'] !== 'string') return undefined;
  return { ...value } as Machine;
}

/** A list page: `{ value: [...], "@odata.nextLink"?: string }`. Undefined when not one. */
export function toPage(
  value: unknown,
): { items: unknown[]; nextLink: string | undefined } | undefined {
  if (!isRecord(value) || !Array.isArray(value['value'])) return undefined;
  const next = value['@odata.nextLink'];
  return {
    items: value['value'],
    nextLink: typeof next === 'string' && next !== '' ? next : undefined,
  };
}
