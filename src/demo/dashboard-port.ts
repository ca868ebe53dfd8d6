import { createServer } from 'node:net';
import { freePort } from '../shared/redis-server.js';

/**
 * The dashboard's port on 127.0.0.1: the one asked for, or a free one. It must be known before
 * anything starts, because the sign-in callback URL the simulator registers names it.
 * Resolves `{ refused }` with the system's reason (EADDRINUSE, EACCES) when it cannot be bound.
 */
export async function pickDashboardPort(
  requested: number | undefined,
): Promise<{ port: number } | { refused: string }> {
  if (requested === undefined) return { port: await freePort() };
  const refused = await bindRefusal(requested);
  return refused === null ? { port: requested } : { refused };
}

/** Binds the port for a moment: null when that worked, else the error code. */
function bindRefusal(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(null);
      });
    });
  });
}
