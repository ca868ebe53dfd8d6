import type { FastifyRequest } from 'fastify';
import { apiError, type ApiResult } from './api-error.js';
import { fieldOf, ODataFilterError, type FieldValue, type FilterSchema } from './odata-filter.js';

export type Comparator<T> = (a: T, b: T) => number;

export interface OrderAndCount<T> {
  /** `$orderby` as a comparator; undefined = the list's own order. */
  order: Comparator<T> | undefined;
  /** `$count=true`: the answer carries `@odata.count`, the number of matches. */
  count: boolean;
}

const ORDER_ITEM = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?$/i;

function compareValues(a: FieldValue, b: FieldValue): number {
  // Absent values sort first, as null sorts lowest in OData.
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const text = (v: string | number | readonly string[]) =>
    Array.isArray(v) ? v.join(',') : String(v);
  return text(a) < text(b) ? -1 : 1;
}

/**
 * Reads `$orderby` (`field [asc|desc]`, comma-separated, on the filterable scalar fields) and
 * `$count` (`true`/`false`), which real clients send (MDEAutomator's `Get-Actions`:
 * `$orderby=CreationDateTimeUtc desc`), and takes them out of the query so that the paging
 * parameters are read as before. Bad values answer 400 ODataError, naming the parameter.
 */
export function takeOrderAndCount<T>(
  request: FastifyRequest,
  schema: FilterSchema<T>,
): OrderAndCount<T> | ApiResult {
  const query = request.query as Record<string, unknown>;
  const orderby = query['$orderby'];
  const count = query['$count'];
  delete query['$orderby'];
  delete query['$count'];
  if (orderby !== undefined && typeof orderby !== 'string')
    return apiError(400, 'ODataError', "The query parameter '$orderby' is given more than once.");
  if (count !== undefined && count !== 'true' && count !== 'false')
    return apiError(
      400,
      'ODataError',
      `Invalid $count '${typeof count === 'string' ? count : '(repeated)'}': expected true or false.`,
    );
  let order: Comparator<T> | undefined;
  if (orderby !== undefined) {
    const keys: { get: (r: T) => FieldValue; sign: number }[] = [];
    for (const item of orderby.split(',').map((s) => s.trim())) {
      const m = ORDER_ITEM.exec(item);
      if (!m?.[1]) return apiError(400, 'ODataError', `Invalid $orderby clause '${item}'.`);
      try {
        const spec = fieldOf(schema, m[1], '$orderby');
        if (spec.type === 'collection')
          return apiError(400, 'ODataError', `'${m[1]}' cannot be used in $orderby.`);
        keys.push({ get: (r) => spec.get(r), sign: m[2]?.toLowerCase() === 'desc' ? -1 : 1 });
      } catch (error) {
        if (error instanceof ODataFilterError)
          return apiError(400, 'ODataError', `Invalid $orderby: ${error.message}`);
        throw error;
      }
    }
    order = (a, b) => {
      for (const key of keys) {
        const c = compareValues(key.get(a), key.get(b));
        if (c !== 0) return c * key.sign;
      }
      return 0;
    };
  }
  return { order, count: count === 'true' };
}

/** Adds `@odata.count` to a successful list answer. */
export function withCount(result: ApiResult, matched: number): ApiResult {
  if (result.status !== 200 || typeof result.body !== 'object' || result.body === null)
    return result;
  const { '@odata.context': context, ...rest } = result.body as Record<string, unknown>;
  return { ...result, body: { '@odata.context': context, '@odata.count': matched, ...rest } };
}
