import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

/**
 * A real local HTTP server whose routes each test writes itself, for the replies the
 * simulator produces only by chance (a 429 with a given Retry-After, a 401 then a 201…).
 */
export async function withApi(
  routes: (app: FastifyInstance) => void,
  run: (ctx: { url: string; seen: SeenRequest[] }) => Promise<void>,
): Promise<void> {
  const app = Fastify({ logger: false });
  const seen: SeenRequest[] = [];
  app.addHook('onRequest', (request, _reply, done) => {
    seen.push({
      method: request.method,
      url: request.url,
      authorization: request.headers.authorization,
      body: undefined,
    });
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const last = seen.at(-1);
    if (last) last.body = request.body;
    done();
  });
  routes(app);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await run({ url, seen });
  } finally {
    await app.close();
  }
}

export function apiError(code: string, message = 'message', target = 'corr-1') {
  return { error: { code, message, target } };
}

/** A local port that was free a moment ago and has nothing listening: connecting is refused. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  });
}
