import { get } from 'node:http';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveFeeds } from '../../../src/dashboard/live-feeds.js';
import { registerLiveRoutes } from '../../../src/dashboard/routes/live.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Reads a whole response (until the server ends it) and its headers. */
function readStream(url: string): Promise<{ type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ type: String(response.headers['content-type']), body });
      });
    }).on('error', reject);
  });
}

describe('live routes', () => {
  it('streams updates and ends a stream at its age limit, so the browser checks in again', async () => {
    const app = Fastify();
    const feeds = createLiveFeeds({
      intervalMs: 50,
      read: (key) => Promise.resolve(`<p>${key}</p>`),
    });
    registerLiveRoutes(app, { feeds, maxAgeMs: 400 });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const { type, body } = await readStream(`${url}/events/campaigns/c-abc`);
    expect(type).toBe('text/event-stream; charset=utf-8');
    expect(body).toMatch(/^retry: 3000\n/);
    expect(body).toContain('event: update\ndata: <p>campaign:c-abc</p>\n\n');
    expect(feeds.viewers()).toBe(0); // the ended stream left its feed
  });

  it('closes with streams still open instead of waiting for the browsers', async () => {
    const app = Fastify();
    const feeds = createLiveFeeds({ intervalMs: 50, read: () => Promise.resolve('x') });
    registerLiveRoutes(app, { feeds });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const open = readStream(`${url}/events/overview`);
    await expect.poll(() => feeds.viewers()).toBe(1);
    await app.close();
    expect((await open).body).toMatch(/^retry: 3000\n/); // ended, not left hanging
    expect(feeds.viewers()).toBe(0);
  });
});
