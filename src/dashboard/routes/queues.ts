import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const QUEUES_PATH = '/queues';

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
    serverAdapter,
    options: { uiConfig: { boardTitle: 'fleetscan queues' } },
  });
  serverAdapter.setBasePath(QUEUES_PATH);
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PATH });
}
