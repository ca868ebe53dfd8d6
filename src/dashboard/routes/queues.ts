import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const QUEUES_PATH = '/queues';

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/**
 * bull-board under `/queues`. Read-only unless actions are allowed: bull-board then refuses
 * every change itself, and the dashboard's hook also answers 403 to any non-GET request there.
 */
export async function registerQueueBoard(
  app: FastifyInstance,
  queue: Queue,
  allowActions: boolean,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: !allowActions })],
    // @bull-board/fastify 9.10.1 carries its own copy of @bull-board/api 9.10.1 beside our 9.10.2:
    // the same interface, declared twice, so the compiler cannot match the private fields.
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: 'fleetscan queues' } },
  });
  serverAdapter.setBasePath(QUEUES_PATH);
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PATH });
}
