import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { Writable } from 'node:stream';
import { redactUrlsIn } from './redact-url.js';

/**
 * pino-pretty on first use: JSON logs (workers, `--json`, pipes) never need it, and the CLI's
 * start-up should not pay for it. It is CommonJS, so a synchronous require can load it.
 */
const loadPretty = () =>
  (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')).PinoPretty;

export type { Logger } from 'pino';

/** Paths that may carry a secret anywhere a logger sees an object. */
export const REDACT_PATHS = [
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'certificatePassword',
  '*.certificatePassword',
  '*.*.certificatePassword',
  'accessToken',
  '*.accessToken',
  '*.*.accessToken',
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'redisUrl',
  '*.redisUrl',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerSettings {
  level: string;
  name?: string;
  /** `auto` (default): readable lines when stderr is a terminal, JSON lines otherwise. */
  format?: LogFormat;
}

/** What `auto` means for a stream: a person reads a terminal, a program reads a pipe. */
export function resolveLogFormat(format: LogFormat, isTty: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

/** `12:03:04 WARN  scan attempt failed  campaignId=c-… attempts=2`, on stderr, synchronously. */
function prettyStream(
  colorize: boolean,
  destination: DestinationStream | number,
): DestinationStream {
  return loadPretty()({
    // pino-pretty writes to a file descriptor or a full stream; a bare `{write}` sink is wrapped.
    destination:
      typeof destination === 'number'
        ? destination
        : new Writable({
            write(chunk: Buffer, _encoding, done) {
              destination.write(chunk.toString());
              done();
            },
          }),
    colorize,
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
}

/** The one root logger of a process; everything else uses `log.child({...})`. */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Paths cannot reach a password inside a URL quoted in a message: mask it in every string
    // argument (the message and its format arguments).
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg: unknown) => (typeof arg === 'string' ? redactUrlsIn(arg) : arg)) as [
            unknown,
            string?,
            ...unknown[],
          ],
        );
      },
    },
    formatters: {
      log: (object) => redactErrorMessage(object),
    },
    base: settings.name ? { name: settings.name } : { pid: process.pid },
  };
  const format = resolveLogFormat(settings.format ?? 'json', process.stderr.isTTY);
  if (format === 'pretty')
    return pino(options, prettyStream(!destination && process.stderr.isTTY, destination ?? 2));
  return destination ? pino(options, destination) : pino(options, pino.destination(2));
}

/** `{err}` (after pino's serializer: `{type, message, stack}`) and `{error: '…'}`: where a quoted URL usually reaches a log line. */
function redactErrorMessage(object: Record<string, unknown>): Record<string, unknown> {
  const out = { ...object };
  for (const key of ['err', 'error']) {
    const value = out[key];
    if (typeof value === 'string') out[key] = redactUrlsIn(value);
    else if (value instanceof Error) {
      if (redactUrlsIn(value.stack ?? value.message) === (value.stack ?? value.message)) continue;
      out[key] = {
        type: value.name,
        message: redactUrlsIn(value.message),
        stack: redactUrlsIn(value.stack ?? ''),
      };
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const record = { ...(value as Record<string, unknown>) };
      for (const field of ['message', 'stack']) {
        const text = record[field];
        if (typeof text === 'string') record[field] = redactUrlsIn(text);
      }
      out[key] = record;
    }
  }
  return out;
}
