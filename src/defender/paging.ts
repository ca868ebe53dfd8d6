import type { Logger } from '../shared/logger.js';
import type { Caller } from './call.js';
import { DefenderError } from './errors.js';
import type { EndpointFamily } from './machine-action.js';
import { toPage } from './normalize.js';

export interface PagerDeps {
  call: Caller;
  withBackoff: <T>(run: () => Promise<T>, signal?: AbortSignal) => Promise<T>;
  base: URL;
  basePath: string;
  log: Logger;
}

/** Microsoft API hosts a nextLink may point at besides the configured one (regional hosts). */
const MICROSOFT_API_HOST = /\.(security\.microsoft\.com|securitycenter\.microsoft\.(com|us))$/;

/**
 * Lists follow `@odata.nextLink` page by page, each page one call with its own budget slot.
 * A 404 ends the list (mde-api.md: an empty list may answer 404). A nextLink is followed only to
 * the same list endpoint on the configured host or a Microsoft API host, since the bearer token
 * goes with it.
 */
export function createPager(deps: PagerDeps) {
  const trusted = (link: string, current: URL, read: ReadonlySet<string>): URL => {
    const next = new URL(link, current);
    const sameHost = next.origin === deps.base.origin;
    const microsoftHost = next.protocol === 'https:' && MICROSOFT_API_HOST.test(next.hostname);
    const samePath = next.pathname
      .toLowerCase()
      .endsWith(current.pathname.slice(deps.basePath.length).toLowerCase());
    // A link back to a page already read would loop forever, spending a slot per page.
    if ((sameHost || microsoftHost) && samePath && !read.has(next.href)) return next;
    throw new DefenderError({
      status: 200,
      code: 'InvalidNextLink',
      retry: 'never',
      message: `Refusing to follow @odata.nextLink to ${next.origin}${next.pathname}`,
    });
  };

  return async function* pages<T>(
    family: EndpointFamily,
    first: URL,
    convert: (item: unknown) => T | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<T> {
    let url: URL | undefined = first;
    const read = new Set<string>();
    for (let page = 1; url; page += 1) {
      const current: URL = url;
      read.add(current.href);
      let body: unknown;
      try {
        body = await deps.withBackoff(
          () => deps.call({ family, method: 'GET', url: current }, { signal }),
          signal,
        );
      } catch (error) {
        if (error instanceof DefenderError && error.status === 404) return;
        throw error;
      }
      const parsed = toPage(body);
      if (!parsed) {
        throw new DefenderError({
          status: 200,
          code: 'InvalidResponse',
          retry: 'backoff',
          message: `List page ${page} has no "value" array`,
        });
      }
      for (const raw of parsed.items) {
        const item = convert(raw);
        if (item === undefined)
          deps.log.warn({ family, page }, 'skipped a list item without an id');
        else yield item;
      }
      url = parsed.nextLink === undefined ? undefined : trusted(parsed.nextLink, current, read);
    }
  };
}
