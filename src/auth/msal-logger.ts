import { LogLevel, type Configuration } from '@azure/msal-node';
import type { Logger } from '../shared/logger.js';

type LoggerOptions = NonNullable<NonNullable<Configuration['system']>['loggerOptions']>;

/**
 * MSAL's own logging, routed into ours. Its warnings ("No client info in response", cache
 * notes) are chatter for an operator: debug level. Its errors stay errors; the failure that
 * matters reaches the caller as a TokenError anyway.
 */
export function msalLoggerOptions(log: Logger): LoggerOptions {
  return {
    piiLoggingEnabled: false,
    logLevel: LogLevel.Warning,
    loggerCallback: (level, message) => {
      if (level <= LogLevel.Error) log.error({ msal: message }, 'msal');
      else log.debug({ msal: message }, 'msal');
    },
  };
}
