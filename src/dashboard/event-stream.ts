import type { LiveMessage } from './live-feeds.js';

/** The part of a `ServerResponse` a stream writes to (tests hand in a fake). */
export interface EventSink {
  write(chunk: string): boolean;
  end(): void;
  destroy(): void;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

export interface EventStreamOptions {
  /** A comment line when nothing else was written for this long, so proxies keep the line open. */
  keepAliveMs: number;
  /** How long the browser waits before it reconnects after the line dropped. */
  retryMs: number;
  /** A viewer that has read nothing for this long is cut off (a frozen tab, a dead network path). */
  stallMs: number;
}

export interface EventStream {
  send(message: LiveMessage): void;
  /** Ends the response (idempotent); `onClose` listeners run once. */
  close(): void;
  onClose(listener: () => void): void;
}

/** One server-sent event: every line of `data` gets its own `data:` field (the spec's framing). */
export function eventFrame(message: LiveMessage): string {
  const lines = message.data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `event: ${message.event}\n${lines.join('')}\n`;
}

/**
 * One viewer's `text/event-stream`. Back-pressure: while the socket does not take more, only the
 * newest message is kept (each carries the whole fragment, so the ones in between are not
 * needed) and it is written on `drain`; a viewer stuck for `stallMs` is disconnected, so memory
 * per viewer stays one fragment whatever it does.
 */
export function openEventStream(sink: EventSink, options: EventStreamOptions): EventStream {
  let pending: string | null = null;
  let congestedSince: number | null = null;
  let wrote = false;
  let closed = false;
  const closeListeners: (() => void)[] = [];

  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    for (const listener of closeListeners.splice(0)) listener();
  };

  const write = (chunk: string) => {
    wrote = true;
    if (sink.write(chunk)) return;
    congestedSince = Date.now();
    sink.once('drain', () => {
      congestedSince = null;
      const next = pending;
      pending = null;
      if (next !== null && !closed) write(next);
    });
  };

  const keepAlive = setInterval(() => {
    if (congestedSince !== null) {
      if (Date.now() - congestedSince >= options.stallMs) {
        sink.destroy();
        finish();
      }
      return;
    }
    if (!wrote) write(': keep-alive\n\n');
    wrote = false;
  }, options.keepAliveMs);
  keepAlive.unref();

  sink.once('close', finish);
  write(`retry: ${String(options.retryMs)}\n: fleetscan live\n\n`);

  return {
    send(message) {
      if (closed) return;
      const frame = eventFrame(message);
      if (congestedSince !== null) pending = frame;
      else write(frame);
    },
    close() {
      if (closed) return;
      sink.end();
      finish();
    },
    onClose(listener) {
      if (closed) listener();
      else closeListeners.push(listener);
    },
  };
}
