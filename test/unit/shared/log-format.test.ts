import { LogLevel } from '@azure/msal-node';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { msalLoggerOptions } from '../../../src/auth/msal-logger.js';
import { configFor } from '../../../src/cli/context.js';
import { createLogger, resolveLogFormat, type LogFormat } from '../../../src/shared/logger.js';

function sink(level: string, format?: LogFormat) {
  const lines: string[] = [];
  const log = createLogger(
    { level, name: 'fleetscan-test', ...(format ? { format } : {}) },
    { write: (line: string) => lines.push(line) },
  );
  return { log, lines };
}

/** Parses `argv` like the CLI does and returns the configuration the command would load. */
function configOf(argv: string[]) {
  let config: ReturnType<typeof configFor> | undefined;
  const program = new Command('fleetscan').option('--log-format <format>').exitOverride();
  program
    .command('status')
    .option('--json')
    .action((_options: unknown, command: Command) => {
      config = configFor(command);
    });
  program.parse(['node', 'fleetscan', ...argv]);
  return config;
}

describe('log format', () => {
  it.each([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('%s on a terminal=%s is %s', (format, tty, expected) => {
    expect(resolveLogFormat(format, tty)).toBe(expected);
  });

  it('writes readable lines in pretty format and one JSON object a line in json', () => {
    const pretty = sink('info', 'pretty');
    pretty.log.warn({ campaignId: 'c-1' }, 'scan attempt failed');
    expect(pretty.lines.join('')).toMatch(
      /^\[\d\d:\d\d:\d\d\] WARN: scan attempt failed \{"campaignId":"c-1"\}\n$/,
    );
    const json = sink('info', 'json');
    json.log.warn({ campaignId: 'c-1' }, 'scan attempt failed');
    expect(JSON.parse(json.lines.join(''))).toMatchObject({ level: 40, campaignId: 'c-1' });
  });

  it('logs JSON with --json or --log-format json, whatever the terminal', () => {
    expect(configOf(['status'])?.log.format).toBe('auto');
    expect(configOf(['status', '--json'])?.log.format).toBe('json');
    expect(configOf(['--log-format', 'json', 'status'])?.log.format).toBe('json');
    expect(configOf(['--log-format', 'pretty', 'status', '--json'])?.log.format).toBe('pretty');
    expect(() => configOf(['--log-format', 'xml', 'status'])).toThrow(/log\.format.*got "xml"/s);
  });

  it("keeps MSAL's warnings out of the info level and shows them at debug", () => {
    const info = sink('info');
    const options = msalLoggerOptions(info.log);
    options.loggerCallback?.(LogLevel.Warning, 'No client info in response', false);
    expect(info.lines).toEqual([]);
    options.loggerCallback?.(LogLevel.Error, 'token endpoint refused', false);
    expect(info.lines.join('')).toContain('token endpoint refused');
    const debug = sink('debug');
    msalLoggerOptions(debug.log).loggerCallback?.(
      LogLevel.Warning,
      'No client info in response',
      false,
    );
    expect(debug.lines.join('')).toContain('No client info in response');
  });
});
