import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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

export interface LoggerSettings {
  level: string;
  name?: string;
}

/** The one root logger of a process; everything else uses `log.child({...})`. */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: settings.name ? { name: settings.name } : { pid: process.pid },
  };
  return destination ? pino(options, destination) : pino(options, pino.destination(2));
}
