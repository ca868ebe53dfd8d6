import { normalizeActionId } from './action-id.js';
import { normalizeMachineId } from './machine-id.js';

/** An OData string literal: single quotes around, and each quote inside doubled. */
export function quoteODataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * An OData DateTimeOffset literal (`2026-11-01T00:00:00Z`, unquoted). Built from a Date so that
 * nothing but digits and ISO punctuation can reach the filter.
 */
export function odataDateTime(value: Date | string | number): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`Not a date: ${String(value)}`);
  return date.toISOString();
}

/** Joins filter clauses with `and`, skipping empty ones; an `or` group is parenthesised. */
export function andFilters(...clauses: (string | undefined)[]): string | undefined {
  const present = clauses.filter((clause): clause is string => Boolean(clause));
  return present.length > 0 ? present.join(' and ') : undefined;
}

function anyOf(field: string, values: string | readonly string[] | undefined): string | undefined {
  if (values === undefined) return undefined;
  const list = typeof values === 'string' ? [values] : values;
  if (list.length === 0) return undefined;
  const clauses = list.map((value) => `${field} eq ${quoteODataString(value)}`);
  return clauses.length === 1 ? clauses[0] : `(${clauses.join(' or ')})`;
}

export interface MachineActionFilter {
  id?: string;
  machineId?: string;
  type?: string;
  status?: string | readonly string[];
  requestor?: string;
  /** `creationDateTimeUtc ge …`: actions created at or after this instant. */
  createdSince?: Date | string | number;
  /** `creationDateTimeUtc lt …`: actions created before this instant (a paging slice's end). */
  createdBefore?: Date | string | number;
}

/** The `$filter` for List MachineActions; ids are validated, strings quoted. */
export function buildMachineActionFilter(filter: MachineActionFilter): string | undefined {
  return andFilters(
    filter.id === undefined ? undefined : `id eq ${quoteODataString(normalizeActionId(filter.id))}`,
    filter.machineId === undefined
      ? undefined
      : `machineId eq ${quoteODataString(normalizeMachineId(filter.machineId))}`,
    anyOf('type', filter.type),
    anyOf('status', filter.status),
    anyOf('requestor', filter.requestor),
    filter.createdSince === undefined
      ? undefined
      : `creationDateTimeUtc ge ${odataDateTime(filter.createdSince)}`,
    filter.createdBefore === undefined
      ? undefined
      : `creationDateTimeUtc lt ${odataDateTime(filter.createdBefore)}`,
  );
}

/** Machines carrying `tag`: the one spelling of the API's lambda filter. */
export function machineTagFilter(tag: string): string {
  return `machineTags/any(tag: tag eq ${quoteODataString(tag)})`;
}

export interface MachineFilter {
  healthStatus?: string | readonly string[];
  onboardingStatus?: string | readonly string[];
  osPlatform?: string | readonly string[];
  /** Machines carrying this tag (`machineTags/any(tag: tag eq 'X')`). */
  tag?: string;
  rbacGroupId?: number | string;
  id?: string;
}

/** The `$filter` for List Machines (only the fields the API documents as filterable). */
export function buildMachineFilter(filter: MachineFilter): string | undefined {
  return andFilters(
    anyOf('healthStatus', filter.healthStatus),
    anyOf('onboardingStatus', filter.onboardingStatus),
    anyOf('osPlatform', filter.osPlatform),
    filter.tag === undefined ? undefined : machineTagFilter(filter.tag),
    filter.rbacGroupId === undefined
      ? undefined
      : `rbacGroupId eq ${rbacGroupLiteral(filter.rbacGroupId)}`,
    filter.id === undefined
      ? undefined
      : `id eq ${quoteODataString(normalizeMachineId(filter.id))}`,
  );
}

function rbacGroupLiteral(value: number | string): string {
  // Group ids are integers; a string that is one is sent bare, anything else quoted.
  const text = String(value).trim();
  return /^\d+$/.test(text) ? text : quoteODataString(text);
}
