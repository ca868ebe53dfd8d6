import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchServerRun } from '../../../src/campaigns/server-run.js';
import type { Redis } from '../../../src/shared/redis.js';

/** A connection that answers INFO server with the run_id of whichever server is up now. */
function fakeConnection(runId: string) {
  const connection = new EventEmitter() as EventEmitter & {
    status: string;
    server: string;
    infos: number;
    pending: (() => void)[];
    info(section: string): Promise<string>;
  };
  connection.status = 'ready';
  connection.server = runId;
  connection.infos = 0;
  connection.pending = [];
  connection.info = (section) => {
    connection.infos++;
    const answer = `# Server\r\nredis_version:7.0.15\r\nrun_id:${connection.server}\r\n(${section})`;
    return new Promise((resolve) =>
      connection.pending.push(() => {
        resolve(answer);
      }),
    );
  };
  const answerAll = async () => {
    for (const answer of connection.pending.splice(0)) answer();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { connection, redis: connection as unknown as Redis, answerAll };
}

describe('watchServerRun', () => {
  it('reads the run_id once when the connection is up, not per use', async () => {
    const { connection, redis, answerAll } = fakeConnection('aaa111');
    const run = watchServerRun(redis);
    // Until INFO answers the run_id is unknown: the script reads it itself.
    expect(run.current().runId).toBe('');
    await answerAll();
    for (let i = 0; i < 5; i++) expect(run.current()).toEqual({ runId: 'aaa111', generation: 0 });
    expect(connection.infos).toBe(1);
  });

  it('forgets the run_id when the connection closes and reads the new server on reconnect', async () => {
    const { connection, redis, answerAll } = fakeConnection('aaa111');
    const run = watchServerRun(redis);
    await answerAll();
    const before = run.current().generation;
    connection.status = 'reconnecting';
    connection.emit('close');
    expect(run.changedSince(before)).toBe(true);
    expect(run.current().runId).toBe('');
    connection.server = 'bbb222';
    connection.status = 'ready';
    connection.emit('ready');
    await answerAll();
    expect(run.current()).toEqual({ runId: 'bbb222', generation: before + 1 });
  });

  it('drops an answer that comes after the connection closed (it may be the old server)', async () => {
    const { connection, redis, answerAll } = fakeConnection('aaa111');
    const run = watchServerRun(redis);
    connection.emit('close');
    await answerAll();
    expect(run.current().runId).toBe('');
  });
});
