import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  eventFrame,
  openEventStream,
  type EventSink,
} from '../../../src/dashboard/event-stream.js';
import { createLiveFeeds, type LiveMessage } from '../../../src/dashboard/live-feeds.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A read that counts its calls and answers `html#n`. */
function countingRead() {
  const reads: string[] = [];
  return {
    reads,
    read: (key: string) => {
      reads.push(key);
      return Promise.resolve(`${key}#${String(reads.length)}`);
    },
  };
}

describe('live feeds', () => {
  it('reads a key once per interval whatever the number of viewers, and stops with the last', async () => {
    const { reads, read } = countingRead();
    const feeds = createLiveFeeds({ intervalMs: 1_000, read });
    const got: LiveMessage[][] = Array.from({ length: 50 }, () => []);
    const leave = got.map((inbox) => feeds.subscribe('overview', (m) => inbox.push(m)));
    expect(feeds.viewers()).toBe(50);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reads).toHaveLength(5);
    for (const inbox of got) {
      expect(inbox.map((m) => m.data)).toEqual([1, 2, 3, 4, 5].map((n) => `overview#${n}`));
    }
    for (const off of leave.slice(1)) off();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reads).toHaveLength(8); // one viewer costs what fifty cost
    leave[0]?.();
    leave[0]?.();
    expect(feeds.viewers()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads).toHaveLength(8);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one reader per key and never overlaps reads of a slow Redis', async () => {
    let running = 0;
    let most = 0;
    const read = async (key: string) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      running -= 1;
      return key;
    };
    const feeds = createLiveFeeds({ intervalMs: 1_000, read });
    const seen: string[] = [];
    feeds.subscribe('overview', (m) => seen.push(m.data));
    feeds.subscribe('campaign:c-1', (m) => seen.push(m.data));
    feeds.subscribe('campaign:c-1', (m) => seen.push(m.data));
    await vi.advanceTimersByTimeAsync(7_000);
    expect(most).toBe(2); // one per key, never two of one key
    expect(seen.filter((d) => d === 'overview')).toHaveLength(2);
    expect(seen.filter((d) => d === 'campaign:c-1')).toHaveLength(4);
    feeds.close();
  });

  it('tells viewers when a read fails or what they follow is gone', async () => {
    let fail = true;
    const feeds = createLiveFeeds({
      intervalMs: 500,
      read: () =>
        fail ? Promise.reject(new Error('Redis is unreachable')) : Promise.resolve(null),
    });
    const seen: LiveMessage[] = [];
    const leave = feeds.subscribe('campaign:c-2', (m) => seen.push(m));
    await vi.advanceTimersByTimeAsync(500);
    fail = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(seen).toEqual([
      { event: 'stale', data: 'Redis is unreachable' },
      { event: 'gone', data: 'campaign:c-2' },
    ]);
    leave();
  });

  it('leaves a read in flight alone when its last viewer goes, and stops after it', async () => {
    const reads: string[] = [];
    const feeds = createLiveFeeds({
      intervalMs: 1_000,
      read: async (key) => {
        reads.push(key);
        await new Promise((resolve) => setTimeout(resolve, 300));
        return key;
      },
    });
    const leave = feeds.subscribe('overview', () => undefined);
    await vi.advanceTimersByTimeAsync(1_100); // the first read is under way
    leave();
    const back = feeds.subscribe('overview', () => undefined); // a reload joins the same read
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reads).toHaveLength(3);
    back();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reads).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });
});

/** A response whose socket takes writes until `full` is set, then wants a drain. */
class FakeSink extends EventEmitter implements EventSink {
  chunks: string[] = [];
  full = false;
  ended = false;
  destroyed = false;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const options = { keepAliveMs: 15_000, retryMs: 3_000, stallMs: 60_000 };

describe('event stream', () => {
  it('frames every line of a fragment as its own data field', () => {
    expect(eventFrame({ event: 'update', data: '<p>a</p>\n<p>b</p>\r\n' })).toBe(
      'event: update\ndata: <p>a</p>\ndata: <p>b</p>\ndata: \n\n',
    );
  });

  it('sends a comment on an idle line, and none while updates flow', async () => {
    const sink = new FakeSink();
    const stream = openEventStream(sink, options);
    expect(sink.chunks[0]).toMatch(/^retry: 3000\n/);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(sink.chunks).toHaveLength(1); // the opening counts as traffic
    await vi.advanceTimersByTimeAsync(15_000);
    expect(sink.chunks.at(-1)).toBe(': keep-alive\n\n');
    stream.send({ event: 'update', data: 'x' });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(sink.chunks.at(-1)).toBe(eventFrame({ event: 'update', data: 'x' }));
    stream.close();
    expect(sink.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds only the newest update for a viewer that does not read, and sends it on drain', () => {
    const sink = new FakeSink();
    const stream = openEventStream(sink, options);
    sink.full = true;
    stream.send({ event: 'update', data: '1' }); // written, and the socket is now full
    for (let n = 2; n <= 100; n++) stream.send({ event: 'update', data: String(n) });
    expect(sink.chunks).toHaveLength(2);
    sink.full = false;
    sink.emit('drain');
    expect(sink.chunks.slice(1)).toEqual([
      eventFrame({ event: 'update', data: '1' }),
      eventFrame({ event: 'update', data: '100' }),
    ]);
    stream.close();
  });

  it('cuts off a viewer stuck past the stall limit and tells its listeners once', async () => {
    const sink = new FakeSink();
    const stream = openEventStream(sink, options);
    let closed = 0;
    stream.onClose(() => (closed += 1));
    sink.full = true;
    stream.send({ event: 'update', data: '1' });
    await vi.advanceTimersByTimeAsync(75_000);
    expect(sink.destroyed).toBe(true);
    stream.close();
    expect(closed).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
