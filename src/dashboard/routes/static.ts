import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const ASSETS = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'new-campaign.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;

export const FAVICON_PATH = '/static/favicon.svg';

/** Paths of the assets: public, as they hold no data. */
export const STATIC_PATHS = [
  ...Object.keys(ASSETS).map((name) => `/static/${name}`),
  '/favicon.ico',
];

/**
 * The stylesheet, the polling script and the icon, read once from `../static/` (copied beside the
 * compiled code by `scripts/copy-assets.js`). Public: they hold no data. Pages link the SVG icon;
 * `/favicon.ico`, which browsers and tools ask for unprompted, points at it.
 */
export function registerStaticRoutes(app: FastifyInstance): void {
  app.get('/favicon.ico', (_request, reply) =>
    reply.header('cache-control', 'public, max-age=86400').redirect(FAVICON_PATH, 301),
  );
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = readFileSync(new URL(`../static/${name}`, import.meta.url), 'utf8');
    app.get(`/static/${name}`, (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=300').send(body),
    );
  }
}
