import type { FastifyInstance, FastifyReply } from 'fastify';
import { openEventStream, type EventStream } from '../event-stream.js';
import type { LiveFeeds } from '../live-feeds.js';

export interface LiveRouteDeps {
  feeds: LiveFeeds;
  /** Comment lines on an idle stream (default 15 s: below the usual proxy idle timeouts). */
  keepAliveMs?: number | undefined;
  /**
   * A stream ends after this long (default 60 s) and the browser reconnects, through the
   * credential check again: a signed-out or expired session stops getting data within it.
   */
  maxAgeMs?: number | undefined;
}

/** The feed keys of the pages: what `liveFragments` in routes/pages.ts knows how to render. */
export const OVERVIEW_FEED = 'overview';
export const campaignFeed = (id: string) => `campaign:${id}`;

const KEEP_ALIVE_MS = 15_000;
const RETRY_MS = 3_000;
const STALL_MS = 60_000;
const MAX_AGE_MS = 60_000;

/**
 * Server-sent events for the live blocks of the pages (`/events/overview`,
 * `/events/campaigns/:id`): each connection listens to the process's shared feed of its page, so
 * fifty open pages cost Redis what one costs. Behind the same credentials as the pages.
 */
export function registerLiveRoutes(app: FastifyInstance, deps: LiveRouteDeps): void {
  const streams = new Set<EventStream>();
  // Open streams would hold `close()` until every browser left.
  app.addHook('preClose', (done) => {
    for (const stream of [...streams]) stream.close();
    deps.feeds.close();
    done();
  });

  const follow = (reply: FastifyReply, key: string) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      // nginx and friends pass the events on at once instead of buffering them.
      'x-accel-buffering': 'no',
    });
    const stream = openEventStream(raw, {
      keepAliveMs: deps.keepAliveMs ?? KEEP_ALIVE_MS,
      retryMs: RETRY_MS,
      stallMs: STALL_MS,
    });
    streams.add(stream);
    const unsubscribe = deps.feeds.subscribe(key, (message) => {
      stream.send(message);
      if (message.event === 'gone') stream.close();
    });
    const expiry = setTimeout(() => {
      stream.close();
    }, deps.maxAgeMs ?? MAX_AGE_MS);
    expiry.unref();
    stream.onClose(() => {
      clearTimeout(expiry);
      unsubscribe();
      streams.delete(stream);
    });
  };

  app.get('/events/overview', (_request, reply) => {
    follow(reply, OVERVIEW_FEED);
  });
  app.get<{ Params: { id: string } }>('/events/campaigns/:id', (request, reply) => {
    follow(reply, campaignFeed(request.params.id));
  });
}
