import { machineTagFilter } from '../../defender/odata.js';
import { TargetQueryError } from './errors.js';

export interface TargetFilterOptions {
  /** Raw OData, used as given inside parentheses. */
  query?: string | undefined;
  /** Any of these tags (OR). */
  tags?: readonly string[] | undefined;
}

/**
 * The `$filter` for List Machines: `(query)` and the tags OR'ed, joined with `and`; `undefined`
 * when there is nothing to filter on. Health, onboarding and the like are checked client-side
 * instead, so that skipped devices can be counted by reason.
 */
export function buildTargetFilter(options: TargetFilterOptions): string | undefined {
  const parts: string[] = [];
  if (options.query !== undefined) {
    const query = options.query.trim();
    if (query === '') throw new TargetQueryError('--query', 'empty OData filter');
    parts.push(`(${query})`);
  }
  const tags = (options.tags ?? []).map((tag) => tag.trim());
  if (tags.some((tag) => tag === '')) throw new TargetQueryError('--tag', 'empty tag');
  const anyTag = tags.map(machineTagFilter);
  if (anyTag.length === 1) parts.push(anyTag.join(''));
  if (anyTag.length > 1) parts.push(`(${anyTag.join(' or ')})`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}
