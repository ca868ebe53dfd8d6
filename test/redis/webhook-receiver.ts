import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WEBHOOK_HEADERS } from '../../src/webhooks/webhook-signature.js';

export interface ReceivedEvent {
  id: string;
  type: string;
  sequence: number;
  campaignId: string | null;
  path: string;
}

/**
 * A playbook's webhook endpoint: checks every signature with the subscription's secret, dedupes
 * on the event id (as receivers are told to), and can be taken down (connection refused) and
 * brought back up on the same port.
 */
export async function startReceiver(secrets: () => Record<string, string>) {
  const firstSeen: ReceivedEvent[] = [];
  const seen = new Set<string>();
  let requests = 0;
  let badSignatures = 0;
  /** Event ids answered 500 every time (a receiver bug for one event). */
  const rejected = new Set<string>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const secret = secrets()[path] ?? '';
      const check = verifyWebhook({
        secret,
        body,
        timestamp: request.headers[WEBHOOK_HEADERS.timestamp] as string | undefined,
        signature: request.headers[WEBHOOK_HEADERS.signature] as string | undefined,
        nowSec: Math.floor(Date.now() / 1000),
      });
      if (!check.ok) {
        badSignatures += 1;
        response.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body) as Omit<ReceivedEvent, 'path'>;
      if (rejected.has(event.id)) {
        response.writeHead(500).end();
        return;
      }
      const key = `${path}|${event.id}`;
      if (!seen.has(key)) {
        seen.add(key);
        firstSeen.push({ ...event, path });
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    firstSeen,
    rejected,
    stats: () => ({ requests, badSignatures }),
    async down() {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
    async up() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
