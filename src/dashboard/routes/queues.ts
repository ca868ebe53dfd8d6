import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { UIConfig } from '@bull-board/api/dist/types.js';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { ACTION_COOKIE, type ActionToken } from '../csrf.js';
import { FAVICON_PATH } from './static.js';

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
/**
 * The way back, in the middle of bull-board's header bar (empty there): bull-board lays its page
 * out over the whole window, so anything placed before it is hidden, and a link at the bottom
 * covered its footer.
 */
const BACK_LINK =
  '<a href="/" id="fleetscan-back" title="BullMQ queues of this deployment: webhook deliveries. ' +
  'Scans wait in the budget lanes, shown on the dashboard." style="position:fixed;top:14px;' +
  'left:50%;transform:translateX(-50%);z-index:1000;padding:0.3rem 0.8rem;border-radius:6px;' +
  'border:1px solid #2b3642;background:#0f1419;color:#58a6ff;font:600 0.85rem system-ui,' +
  'sans-serif;text-decoration:none">← fleetscan dashboard</a>';

/**
 * bull-board's dark palette (its `.dark-mode` tokens) as the light theme too: the queue page
 * matches the dashboard whatever the viewer's system prefers (bull-board's own setting can
 * still pick a theme; both are dark).
 */
const DARK: NonNullable<NonNullable<UIConfig['theme']>['light']> = {
  background: '#151a21',
  foreground: '#d5dce4',
  card: '#1c232d',
  'card-foreground': '#d5dce4',
  popover: '#202834',
  'popover-foreground': '#d5dce4',
  primary: '#3ecfb2',
  'primary-foreground': '#0c1f1b',
  secondary: '#242d39',
  'secondary-foreground': '#b9c2cd',
  muted: '#232b36',
  'muted-foreground': '#8b96a5',
  accent: '#20293a',
  'accent-foreground': '#d5dce4',
  destructive: '#e0635c',
  'destructive-foreground': '#1d0f0e',
  border: '#2a3340',
  input: '#333e4d',
  sidebar: '#12171d',
  'sidebar-foreground': '#aab4c0',
  'sidebar-accent': '#1d2530',
  'sidebar-accent-foreground': '#d5dce4',
  'sidebar-border': '#232b36',
};

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
    options: {
      uiConfig: {
        boardTitle: 'fleetscan queues',
        theme: { light: DARK },
        favIcon: { default: FAVICON_PATH, alternative: FAVICON_PATH },
        miscLinks: [{ text: '← fleetscan dashboard', url: '/' }],
        hideDocsLink: true,
      },
    },
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
