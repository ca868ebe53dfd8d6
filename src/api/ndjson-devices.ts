import { isMachineId } from '../defender/machine-id.js';
import { renderValue } from '../producer/sources/device-id.js';
import {
  BODY_LIMITS,
  createPause,
  parseJsonLine,
  type BodyLimits,
  type Pause,
} from './bounded-json.js';
import { boundedLines } from '../shared/bounded-lines.js';
import { ApiProblem } from './problem.js';

/** Keys a device object may carry its id under (as the device files accept). */
const ID_KEYS = ['machineId', 'deviceId', 'id'] as const;
const LINES_PER_CHECK = 256;

/**
 * An NDJSON device list (one JSON string or object with `machineId`/`deviceId`/`id` a line) as the
 * same body shape a JSON request has; the campaign's options come from the query string.
 * Streamed as the body arrives, yielding to the event loop, with a line length and a line count limit
 * (`BODY_LIMITS`). Ids are checked here, line by line, as `checkDeviceIds` checks a JSON list:
 * one that is not a machine id refuses the whole request, naming the first ones by line.
 */
export async function parseNdjsonDevices(
  body: AsyncIterable<Buffer> | Buffer | string,
  query: unknown,
  limits: Readonly<BodyLimits> = BODY_LIMITS,
  pause: Pause = createPause(),
): Promise<Record<string, unknown>> {
  const devices: string[] = [];
  const invalid: { where: string; message: string }[] = [];
  let invalidCount = 0;
  const chunks = typeof body === 'string' || Buffer.isBuffer(body) ? [Buffer.from(body)] : body;
  const lines = boundedLines(
    chunks,
    limits.maxLineChars,
    (number) =>
      new ApiProblem(
        'invalid-request',
        `NDJSON line ${String(number)} is longer than ${String(limits.maxLineChars)} bytes`,
      ),
  );
  for await (const { number, text } of lines) {
    if (number > limits.maxLines) {
      throw new ApiProblem(
        'invalid-request',
        `The NDJSON body has more than ${String(limits.maxLines)} lines`,
      );
    }
    if (number % LINES_PER_CHECK === 0) await pause();
    const line = text.trim();
    if (line === '') continue;
    const value = idOf(line, number, limits);
    const id = value.replace(/[A-F]/g, (c) => c.toLowerCase());
    if (isMachineId(id)) devices.push(id);
    else {
      invalidCount += 1;
      if (invalid.length < 20) {
        invalid.push({
          where: `NDJSON line ${String(number)}`,
          message: `not a machine id: ${renderValue(value)}`,
        });
      }
    }
  }
  if (invalidCount > 0) {
    throw new ApiProblem(
      'invalid-devices',
      `${String(invalidCount)} of ${String(devices.length + invalidCount)} device ids are not machine ids (40 hex characters); nothing was created.`,
      { errors: invalid, invalidCount },
    );
  }
  return withQueryOptions(devices, query);
}

/** The id a line names; values that are not strings are kept as their text, so the check names them. */
function idOf(line: string, number: number, limits: Parameters<typeof parseJsonLine>[1]): string {
  let value: unknown;
  try {
    value = parseJsonLine(line, limits);
  } catch (error) {
    const why = error instanceof ApiProblem ? `: ${error.message.replace(/^The body /, '')}` : '';
    throw new ApiProblem('invalid-request', `NDJSON line ${String(number)} is not JSON${why}`);
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    value = ID_KEYS.map((key) => record[key]).find((v) => v !== undefined) ?? line;
  }
  return typeof value === 'string' ? value : line;
}

function withQueryOptions(devices: string[], query: unknown): Record<string, unknown> {
  const q = (query ?? {}) as Record<string, string | undefined>;
  const body: Record<string, unknown> = { devices };
  for (const key of ['tenant', 'priority', 'scanType', 'comment', 'name'] as const) {
    if (q[key] !== undefined) body[key] = q[key];
  }
  if (
    q['windowStart'] !== undefined ||
    q['windowEnd'] !== undefined ||
    q['windowTz'] !== undefined
  ) {
    body['window'] = { start: q['windowStart'], end: q['windowEnd'], tz: q['windowTz'] ?? 'UTC' };
  }
  return body;
}
