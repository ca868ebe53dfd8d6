import { isCluster, type Redis } from '../shared/redis.js';

/** The Redis server a connection talks to, as `markSent` passes it to transition-3.lua. */
export interface ServerRun {
  /**
   * The server's run_id ('' while unknown: the script then reads it itself) and the connection's
   * generation (one more at every close), to hand to `changedSince` once the command answered.
   */
  current(): { runId: string; generation: number };
  /**
   * The connection closed since `generation`: a command sent before may have been sent again
   * (ioredis re-sends unanswered commands after a reconnect) to a server that restarted, with
   * the run_id of the one before; its answer proves nothing about a restart.
   */
  changedSince(generation: number): boolean;
}

/**
 * Reads the run_id once per connection (INFO server, when it opens)
 * instead of in every `markSent` (issue 26: INFO in the hot script cost more than the rest of
 * it). The protection stays whole: a restarted server closes the connection, which forgets the
 * run_id (commands queued meanwhile pass '' and the script reads the new one) and ends the
 * generation (`changedSince`). On a Redis Cluster each campaign lives on its slot's master, so
 * the script reads the run_id of the node it runs on ('' always).
 */
export function watchServerRun(redis: Redis): ServerRun {
  if (isCluster(redis))
    return { current: () => ({ runId: '', generation: 0 }), changedSince: () => false };
  let runId = '';
  let generation = 0;
  let reading = false;
  redis.on('close', () => {
    generation++;
    runId = '';
  });
  const read = () => {
    if (reading || redis.status !== 'ready') return;
    reading = true;
    const at = generation;
    redis
      .info('server')
      .then((text) => {
        const id = /run_id:(\w+)/.exec(text)?.[1];
        if (id && generation === at) runId = id;
      })
      // Unknown stays unknown: the script reads the run_id itself meanwhile.
      .catch(() => undefined)
      .finally(() => {
        reading = false;
      });
  };
  // Read as soon as the connection is up, so that the first turns need not read it in Lua.
  redis.on('ready', read);
  read();
  return {
    current() {
      if (runId === '') read();
      return { runId, generation };
    },
    changedSince: (before) => generation !== before,
  };
}
