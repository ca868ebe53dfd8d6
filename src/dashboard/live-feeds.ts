/**
 * What every viewer of one feed receives after a read: the rendered fragment (`update`), word
 * that what it showed no longer exists (`gone`), or why the read failed (`stale`: Redis away).
 */
export interface LiveMessage {
  event: 'update' | 'gone' | 'stale';
  data: string;
}

export type LiveListener = (message: LiveMessage) => void;

export interface LiveFeeds {
  /** Adds a viewer of `key`; the function returned removes it (calling it twice is harmless). */
  subscribe(key: string, listener: LiveListener): () => void;
  /** Viewers connected now, over every key. */
  viewers(): number;
  /** Stops every read and forgets every viewer (the server is closing). */
  close(): void;
}

export interface LiveFeedOptions {
  /** How often a key with viewers is read: once per interval, whatever their number. */
  intervalMs: number;
  /** Reads and renders one key; null when what it shows is gone (an archived campaign). */
  read: (key: string) => Promise<string | null>;
}

interface Feed {
  listeners: Set<LiveListener>;
  timer: NodeJS.Timeout | null;
  reading: boolean;
}

/**
 * One shared poller per key for the whole process: the first viewer of a key starts its reads,
 * every later viewer only listens, and the last one to leave stops them. A read is never started
 * while the previous one runs, so a slow Redis slows the page down instead of piling reads up.
 */
export function createLiveFeeds(options: LiveFeedOptions): LiveFeeds {
  const feeds = new Map<string, Feed>();
  let closed = false;

  const forget = (key: string, feed: Feed) => {
    if (feed.timer) clearTimeout(feed.timer);
    feed.timer = null;
    if (feeds.get(key) === feed) feeds.delete(key);
  };

  const schedule = (key: string, feed: Feed, delayMs: number) => {
    feed.timer = setTimeout(() => {
      void tick(key, feed);
    }, delayMs);
    // A viewer keeps its own socket open; the poller alone must not keep a process alive.
    feed.timer.unref();
  };

  const tick = async (key: string, feed: Feed) => {
    feed.timer = null;
    if (closed || feed.listeners.size === 0) {
      forget(key, feed);
      return;
    }
    feed.reading = true;
    const started = Date.now();
    let message: LiveMessage;
    try {
      const html = await options.read(key);
      message = html === null ? { event: 'gone', data: key } : { event: 'update', data: html };
    } catch (error) {
      message = { event: 'stale', data: error instanceof Error ? error.message : String(error) };
    }
    feed.reading = false;
    // After `close()` the listeners are gone: nothing is sent and nothing scheduled.
    for (const listener of [...feed.listeners]) listener(message);
    if (feed.listeners.size === 0) {
      forget(key, feed);
      return;
    }
    schedule(key, feed, Math.max(0, options.intervalMs - (Date.now() - started)));
  };

  return {
    subscribe(key, listener) {
      if (closed) return () => undefined;
      let feed = feeds.get(key);
      if (!feed) {
        feed = { listeners: new Set(), timer: null, reading: false };
        feeds.set(key, feed);
      }
      feed.listeners.add(listener);
      // The page was rendered just now: its first update is due one interval later.
      if (!feed.timer && !feed.reading) schedule(key, feed, options.intervalMs);
      const joined = feed;
      return () => {
        joined.listeners.delete(listener);
        // A read under way finds the feed empty when it ends and forgets it then.
        if (joined.listeners.size === 0 && !joined.reading) forget(key, joined);
      };
    },
    viewers() {
      let count = 0;
      for (const feed of feeds.values()) count += feed.listeners.size;
      return count;
    },
    close() {
      closed = true;
      for (const [key, feed] of feeds) {
        feed.listeners.clear();
        forget(key, feed);
      }
    },
  };
}
