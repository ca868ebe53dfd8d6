import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttp } from '../../../src/defender/http.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => {
    if (server)
      server.close(() => {
        resolve();
      });
    else resolve();
  });
  server = undefined;
});

/** Headers at once, the body `bodyDelayMs` later. */
async function slowBody(bodyDelayMs: number): Promise<string> {
  server = createServer((_request, response) => {
    response.writeHead(201, { 'content-type': 'application/json' });
    response.flushHeaders();
    setTimeout(() => response.end('{"id":"a"}'), bodyDelayMs);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

describe('http reply time', () => {
  it('dates a reply at its headers, not at the end of its body', async () => {
    const origin = await slowBody(60);
    const http = createHttp({ timeoutMs: 5_000 });
    try {
      const sent = performance.now();
      const reply = await http.send(
        { family: 'scan', method: 'POST', url: new URL(`${origin}/x`), body: {} },
        'token',
      );
      const done = performance.now();
      expect(reply.status).toBe(201);
      expect(reply.receivedAt).toBeGreaterThanOrEqual(sent);
      // The slot is stamped at the headers: the 60 ms of body come after it.
      expect(done - (reply.receivedAt ?? done)).toBeGreaterThanOrEqual(40);
    } finally {
      http.close();
    }
  });
});
