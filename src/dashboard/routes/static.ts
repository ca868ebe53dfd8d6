import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const ASSETS = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
} as const;

/**
 * The stylesheet and the polling script, read once from `../static/` (copied beside the compiled
 * code by `scripts/copy-assets.js`). Public: they hold no data.
 */
export function registerStaticRoutes(app: FastifyInstance): void {
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = readFileSync(new URL(`../static/${name}`, import.meta.url), 'utf8');
    app.get(`/static/${name}`, (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=300').send(body),
    );
  }
}
