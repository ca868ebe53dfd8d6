import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from '../../../src/shared/redact-url.js';
import { createLogger } from '../../../src/shared/logger.js';
import { describeRedisUrl } from '../../../src/shared/redis.js';

describe('redactUrl', () => {
  it.each([
    ['redis://default:hunter2@10.0.0.5:6379/0', 'redis://default:***@10.0.0.5:6379/0'],
    ['rediss://:hunter2@redis.example:6380', 'rediss://:***@redis.example:6380'],
    ['redis+cluster://app:hunter2@a:1,b:2', 'redis+cluster://app:***@a:1,b:2'],
    ['https://user:hunter2@hooks.example/x?y=1', 'https://user:***@hooks.example/x?y=1'],
    ['https://hunter2@hooks.example/x', 'https://***@hooks.example/x'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['https://example.com/a@b', 'https://example.com/a@b'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('masks every URL inside a sentence and leaves the words alone', () => {
    const text = 'connect to redis://u:p%40ss@h:1 failed, then rediss://v:w@k:2 too';
    expect(redactUrlsIn(text)).toBe(
      'connect to redis://u:***@h:1 failed, then rediss://v:***@k:2 too',
    );
  });

  it('describeRedisUrl never shows the password of a plain or cluster URL', () => {
    expect(describeRedisUrl('redis://default:hunter2@h:1')).not.toContain('hunter2');
    expect(describeRedisUrl('rediss+cluster://u:hunter2@a:1,b:2')).not.toContain('hunter2');
  });
});

describe('the logger', () => {
  it('masks a password inside a URL in the message, in err and in error', () => {
    const lines: string[] = [];
    const log = createLogger(
      { level: 'info', format: 'json' },
      { write: (l: string) => lines.push(l) },
    );
    log.info('cannot reach redis://default:hunter2@h:1');
    log.warn({ err: new Error('ECONNREFUSED redis://default:hunter2@h:1') }, 'outage');
    log.warn({ error: 'refused by https://u:hunter2@x' }, 'delivery');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain('hunter2');
      expect(line).toContain('***');
    }
  });
});
