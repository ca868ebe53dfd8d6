import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { Writable } from 'node:stream';
import { PinoPretty } from 'pino-pretty';

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
  return PinoPretty({
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
    base: settings.name ? { name: settings.name } : { pid: process.pid },
  };
  const format = resolveLogFormat(settings.format ?? 'json', process.stderr.isTTY);
  if (format === 'pretty')
    return pino(options, prettyStream(!destination && process.stderr.isTTY, destination ?? 2));
  return destination ? pino(options, destination) : pino(options, pino.destination(2));
}
