import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/logger.js';
import { describeRedisUrl } from '../../../src/shared/redis.js';

const CANARY = 'canary-0b5e2d77-secret';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => lines.join('') };
}

describe('the root logger', () => {
  it('redacts secrets wherever they sit in a logged object', () => {
    const out = sink();
    const log = createLogger({ level: 'info' }, out.stream);
    log.info(
      { clientSecret: CANARY, defender: { clientSecret: CANARY, accessToken: CANARY } },
      'config',
    );
    log
      .child({ campaignId: 'c-1' })
      .info({ req: { headers: { authorization: `Bearer ${CANARY}` } } }, 'call');
    log.info({ dashboard: { token: CANARY, password: CANARY } }, 'dashboard');
    expect(out.text()).not.toContain(CANARY);
    expect(out.text()).toContain('[redacted]');
    expect(out.text()).toContain('"campaignId":"c-1"');
  });

  it('writes JSON objects one per line', () => {
    const out = sink();
    createLogger({ level: 'info', name: 'test' }, out.stream).info({ n: 1 }, 'hello');
    const line = JSON.parse(out.text().trim()) as { msg: string; n: number; name: string };
    expect(line).toMatchObject({ msg: 'hello', n: 1, name: 'test' });
  });
});

describe('describeRedisUrl', () => {
  it('hides the password of a Redis URL', () => {
    expect(describeRedisUrl(`redis://user:${CANARY}@host:6379/0`)).toBe(
      'redis://user:***@host:6379/0',
    );
    expect(describeRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
