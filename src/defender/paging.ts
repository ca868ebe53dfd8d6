import type { Logger } from '../shared/logger.js';
import type { Caller } from './call.js';
import { DefenderError } from './errors.js';
import type { EndpointFamily } from './machine-action.js';
import { toPage } from './normalize.js';

export interface PagerDeps {
  call: Caller;
  withBackoff: <T>(run: () => Promise<T>, signal?: AbortSignal) => Promise<T>;
  log: Logger;
  /** `$top` of every list call: the most one answer may hold (the API caps it at 10,000). */
  pageSize: number;
}

/** One list answer: its raw items (a 404 is an empty answer) and its nextLink, if any. */
export interface ListAnswer {
  items: unknown[];
  nextLink: string | undefined;
}

/** `$top` and `$skip` of one request; the rest of its query is the caller's. */
export type PageUrl = (top: number, skip: number) => URL;

/**
 * Reads lists the way the real API can be read (mde-api.md, "Paging"). `$top` caps the whole
 * answer and then no nextLink comes, while the nextLinks of an answer without `$top` lose their
 * parameter names (following them drops the `$filter`, and they may never end). So every request
 * carries `$top` and the next one is built here with `$skip`; a nextLink is never followed. Each
 * request is one call, with its own budget slot.
 */
export function createPager(deps: PagerDeps) {
  const answer = async (
    family: EndpointFamily,
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<ListAnswer> => {
    let body: unknown;
    try {
      body = await deps.withBackoff(
        () => deps.call({ family, method: 'GET', url }, { signal }),
        signal,
      );
    } catch (error) {
      // "List machines API": 404 when nothing matches. On a list it means empty, never "gone".
      if (error instanceof DefenderError && error.status === 404)
        return { items: [], nextLink: undefined };
      throw error;
    }
    const parsed = toPage(body);
    if (!parsed) {
      throw new DefenderError({
        status: 200,
        code: 'InvalidResponse',
        retry: 'backoff',
        message: `The list answer to ${url.pathname} has no "value" array`,
      });
    }
    return parsed;
  };

  /**
   * Pages `$top` + `$skip` until an answer comes back short (and without a nextLink), yielding
   * each id once: a list that grows while it is read shifts items into the next page, which
   * repeats them. A full answer with nothing new means `$skip` was not honoured: that fails
   * instead of paging forever.
   */
  async function* bySkip<T extends { id: string }>(
    family: EndpointFamily,
    pageUrl: PageUrl,
    convert: (item: unknown) => T | undefined,
    seen: Set<string>,
    signal?: AbortSignal,
  ): AsyncGenerator<T> {
    const top = deps.pageSize;
    // Ids this pass read, apart from `seen` (which a caller may share across passes).
    const read = new Set<string>();
    for (let skip = 0; ;) {
      const url = pageUrl(top, skip);
      const page = await answer(family, url, signal);
      let fresh = 0;
      for (const item of convertAll(page.items, convert, family)) {
        if (!read.has(item.id)) fresh += 1;
        read.add(item.id);
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        yield item;
      }
      noteNextLink(page.nextLink, url, family);
      if (page.items.length === 0) return;
      if (page.items.length < top && page.nextLink === undefined) return;
      if (fresh === 0) {
        throw new DefenderError({
          status: 200,
          code: 'InvalidResponse',
          retry: 'backoff',
          message: `${url.pathname} answered $skip=${skip} with items already read`,
        });
      }
      skip += page.items.length;
    }
  }

  function* convertAll<T>(
    items: unknown[],
    convert: (item: unknown) => T | undefined,
    family: EndpointFamily,
  ): Generator<T> {
    for (const raw of items) {
      const item = convert(raw);
      if (item === undefined) deps.log.warn({ family }, 'skipped a list item without an id');
      else yield item;
    }
  }

  /** A nextLink is only ever a hint; one whose query is not ours is worth a warning. */
  const noteNextLink = (link: string | undefined, asked: URL, family: EndpointFamily) => {
    if (link === undefined) return;
    const names = (url: URL) =>
      [...url.searchParams.entries()]
        .filter(([key]) => key !== '$skip')
        .map(([key, value]) => `${key}=${value}`)
        .sort();
    let next: URL | undefined;
    try {
      next = new URL(link, asked);
    } catch {
      next = undefined;
    }
    const same = next !== undefined && names(next).join('&') === names(asked).join('&');
    if (!same) {
      deps.log.warn(
        { family, asked: asked.search, nextLink: link },
        'ignored an @odata.nextLink whose query differs from the one asked',
      );
    }
  };

  return { answer, bySkip, convertAll };
}

export type Pager = ReturnType<typeof createPager>;
