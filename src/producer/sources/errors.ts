/** Failures of the device sources, one class per kind, each with a stable `code`. */

/** One line that was not a usable machine id (also used in reports, not only in errors). */
export interface InvalidEntry {
  /** 1-based line number in the file (for CSV, the line on which the record ends). */
  line: number;
  /** A short rendering that is safe to print (see `renderValue`). */
  value: string;
  reason: InvalidReason;
}

export const INVALID_REASONS = [
  'not-a-machine-id',
  'not-json',
  'no-id-field',
  'not-a-string',
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export const DEVICE_FILE_ERROR_CODES = [
  'unreadable',
  'unknown-column',
  'malformed',
  'invalid-lines',
  'not-text',
] as const;
export type DeviceFileErrorCode = (typeof DEVICE_FILE_ERROR_CODES)[number];

export interface DeviceFileErrorDetails {
  code: DeviceFileErrorCode;
  /** The file as the user named it (`-` for stdin). */
  file: string;
  problem: string;
  line?: number | undefined;
  /** For `invalid-lines`: the first bad lines (bounded) and how many there were in all. */
  invalid?: readonly InvalidEntry[] | undefined;
  invalidCount?: number | undefined;
}

/** A device file that cannot be used; the message names the file, the line and the problem. */
export class DeviceFileError extends Error {
  override name = 'DeviceFileError';
  readonly code: DeviceFileErrorCode;
  readonly file: string;
  readonly line: number | undefined;
  readonly invalid: readonly InvalidEntry[];
  readonly invalidCount: number;

  constructor(details: DeviceFileErrorDetails, options?: ErrorOptions) {
    const where = details.line === undefined ? '' : `, line ${details.line}`;
    super(`Device file ${JSON.stringify(details.file)}${where}: ${details.problem}`, options);
    this.code = details.code;
    this.file = details.file;
    this.line = details.line;
    this.invalid = details.invalid ?? [];
    this.invalidCount = details.invalidCount ?? this.invalid.length;
  }
}

/** Target options that cannot become a List Machines query (an empty tag, an empty query). */
export class TargetQueryError extends Error {
  override name = 'TargetQueryError';
  readonly option: string;
  constructor(option: string, problem: string) {
    super(`${option}: ${problem}`);
    this.option = option;
  }
}
