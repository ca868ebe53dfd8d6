import type { FastifyRequest } from 'fastify';
import { apiError, type ApiResult } from './api-error.js';
import {
  compileFilter,
  ODataFilterError,
  type FilterSchema,
  type Predicate,
} from './odata-filter.js';
import type { SimContext } from './sim-context.js';

/** The API's largest `$top` (and its page size without one). */
export const MAX_TOP = 10_000;
const QUERY_KEYS = ['$filter', '$top', '$skip'];

/**
 * A list query as the API reads it. `broken` marks the query of a nextLink the API itself wrote:
 * its parameters lost their names (`?=<filter>&=10000&$skip=…`, microsoft-365-docs issue 8316),
 * so the filter and the page size are not applied.
 */
export interface ListQuery<T> {
  predicate: Predicate<T> | undefined;
  filter: string | undefined;
  /** `$top` as asked; undefined = pages of `pageSize` with nextLinks. */
  top: number | undefined;
  skip: number;
  broken: boolean;
}

/** Validates `$filter`, `$top` and `$skip`; other names are refused, nameless ones ignored. */
export function readListQuery<T>(
  request: FastifyRequest,
  schema: FilterSchema<T>,
): ListQuery<T> | ApiResult {
  const query = request.query as Record<string, unknown>;
  let broken = false;
  for (const [key, value] of Object.entries(query)) {
    if (key === '') {
      broken = true;
      continue;
    }
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
    top: topText === undefined ? undefined : Number(topText),
    skip: skipText === undefined ? 0 : Number(skipText),
    broken,
  };
}

/**
 * One answer of a list endpoint, paged as the real API pages (mde-api.md, "Paging"):
 * - with `$top`, the answer holds at most `$top` items after `$skip` and never a nextLink;
 * - without it, pages of `pageSize` carry an `@odata.nextLink` whose parameters have lost their
 *   names. Following one (`broken`) drops the filter, and such links never end: past the last
 *   item they start over from the first (the stricter reading of "goes on without end").
 * An empty answer is a 404 when `emptyAs404` (always for machines, per "List machines API").
 */
export function listAnswer(
  ctx: SimContext,
  request: FastifyRequest,
  entitySet: string,
  query: Omit<ListQuery<unknown>, 'predicate'>,
  items: readonly unknown[],
  emptyAs404: boolean,
): ApiResult {
  const base = `${request.protocol}://${request.host}`;
  const path = request.url.split('?')[0] ?? '';
  const size = query.top ?? ctx.opts.defaultPageSize;
  const start = query.broken && items.length > 0 ? query.skip % items.length : query.skip;
  const value = items.slice(start, start + size);
  if (value.length === 0 && emptyAs404) {
    return apiError(404, 'ResourceNotFound', `No ${entitySet} found.`);
  }
  const body: Record<string, unknown> = {
    '@odata.context': `${base}/api/$metadata#${entitySet}`,
    value,
  };
  if (query.top === undefined && (query.broken || start + size < items.length)) {
    const nameless = [
      ...(query.filter === undefined ? [] : [`=${encodeURIComponent(query.filter)}`]),
      `=${size}`,
      `$skip=${query.skip + size}`,
    ];
    body['@odata.nextLink'] = `${base}${path}?${nameless.join('&')}`;
  }
  return { status: 200, body };
}
