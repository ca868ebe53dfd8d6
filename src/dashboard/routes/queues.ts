import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { ACTION_COOKIE, type ActionToken } from '../csrf.js';

export const QUEUES_PATH = '/queues';

/**
 * bull-board's page needs inline styles (its React UI sets them) but nothing from elsewhere:
 * no font, script or connection leaves this origin.
 */
export const QUEUES_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; form-action 'self'; base-uri 'self'";

const GOOGLE_FONTS = /<link[^>]+fonts\.googleapis\.com[^>]*>\s*/g;
const BACK_LINK =
  '<a href="/" id="fleetscan-back" style="position:fixed;bottom:0.8rem;left:0.8rem;z-index:1000;' +
  'padding:0.35rem 0.7rem;border-radius:6px;background:#1f6feb;color:#fff;font:600 0.85rem sans-serif;' +
  'text-decoration:none">← fleetscan dashboard</a>';

/**
 * bull-board's page as served here: its Google Fonts link removed (a security tool's page
 * fetches nothing from the internet, and it must work offline: the UI falls back to the
 * system's sans-serif and monospace fonts) and a link back to the dashboard added.
 */
export function localQueuePage(html: string): string {
  return html.replace(GOOGLE_FONTS, '').replace('<body class="preload">', `$&\n${BACK_LINK}`);
}

/**
 * bull-board under `/queues`. Read-only unless actions are allowed (`token` given): bull-board
 * then refuses every change itself, and the dashboard's hook also answers 403 to any non-GET
 * request there. With actions, its page sets the action token as a same-site cookie, and the
 * dashboard's hook wants it on every change, as on the campaign buttons.
 */
export async function registerQueueBoard(
  app: FastifyInstance,
  queue: Queue,
  token: ActionToken | null,
  secure: boolean,
): Promise<void> {
  const allowActions = token !== null;
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: !allowActions })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'fleetscan queues' } },
  });
  serverAdapter.setBasePath(QUEUES_PATH);
  app.addHook('onSend', async (request, reply, payload) => {
    if (!(request.raw.url ?? '').startsWith(QUEUES_PATH)) return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    if (!type.startsWith('text/html')) return payload;
    reply.header('content-security-policy', QUEUES_CSP);
    if (token) {
      reply.header(
        'set-cookie',
        `${ACTION_COOKIE}=${token.token}; Path=${QUEUES_PATH}; HttpOnly; SameSite=Strict` +
          (secure ? '; Secure' : ''),
      );
    }
    return typeof payload === 'string' ? localQueuePage(payload) : payload;
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PATH });
}
