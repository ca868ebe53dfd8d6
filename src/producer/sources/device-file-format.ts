/** Which shape a device file has, and which column or key carries the machine id. */

export const DEVICE_FILE_FORMATS = ['csv', 'text', 'json', 'ndjson'] as const;
export type DeviceFileFormat = (typeof DEVICE_FILE_FORMATS)[number];

/**
 * Column names (and JSON keys) taken as the machine id, case-insensitively, in priority order:
 * `machineId` beats `id` because in a MachineAction export `id` is the action's GUID.
 */
export const ID_COLUMN_ALIASES = ['machineId', 'deviceId', 'Device ID', 'id'] as const;

/**
 * Columns (and JSON keys) taken as the device's host name, case-insensitively, in priority order:
 * Defender's `computerDnsName`, the portal export's `Device Name`, and common inventory names.
 */
export const HOSTNAME_COLUMN_ALIASES = [
  'computerDnsName',
  'DeviceName',
  'Device Name',
  'hostname',
  'Host Name',
  'computerName',
] as const;

/** The index of the host name column among `names`, or -1 (a file need not have one). */
export function pickHostnameColumn(names: readonly string[]): number {
  const folded = names.map((name) => name.trim().toLowerCase());
  for (const alias of HOSTNAME_COLUMN_ALIASES) {
    const index = folded.indexOf(alias.toLowerCase());
    if (index >= 0) return index;
  }
  return -1;
}

const CSV_DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

/**
 * The index of the id column among `names` (a header row or an object's keys), or -1.
 * With `column`, only that name counts.
 */
export function pickIdColumn(names: readonly string[], column?: string): number {
  const wanted = column === undefined ? ID_COLUMN_ALIASES : [column];
  const folded = names.map((name) => name.trim().toLowerCase());
  for (const alias of wanted) {
    const index = folded.indexOf(alias.trim().toLowerCase());
    if (index >= 0) return index;
  }
  return -1;
}

/** The first line that is not blank (the head may end mid-line; that part is still usable). */
function firstLine(head: string): string {
  for (const line of head.split('\n')) if (line.trim() !== '') return line;
  return '';
}

/**
 * Detects the format from the first bytes of the content; the extension only breaks ties
 * (a `.csv` file with one column is still CSV, so its quoting rules apply).
 * JSON wins over any extension: `[` opens an array, `{` starts NDJSON.
 */
export function detectFormat(head: string, fileName: string): DeviceFileFormat {
  const start = head.trimStart();
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) return 'ndjson';
  const ext = /\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (ext === 'ndjson' || ext === 'jsonl') return 'ndjson';
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  return detectDelimiter(head) === undefined ? 'text' : 'csv';
}

/** The delimiter used on the first non-blank line, or `undefined` when there is none. */
export function detectDelimiter(head: string): CsvDelimiter | undefined {
  const line = firstLine(head);
  let best: CsvDelimiter | undefined;
  let bestCount = 0;
  for (const delimiter of CSV_DELIMITERS) {
    const count = line.split(delimiter).length - 1;
    if (count > bestCount) [best, bestCount] = [delimiter, count];
  }
  return best;
}
