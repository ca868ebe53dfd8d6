import { ApiProblem } from './problem.js';

/** Keys a device object may carry its id under (as the device files accept). */
const ID_KEYS = ['machineId', 'deviceId', 'id'] as const;

/**
 * An NDJSON device list (one JSON string or object with `machineId`/`deviceId`/`id` a line) as the
 * same body shape a JSON request has; the campaign's options come from the query string.
 * Values that are not strings are kept as their text, so the id check names them with the rest.
 */
export function parseNdjsonDevices(text: string, query: unknown): Record<string, unknown> {
  const devices: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ApiProblem('invalid-request', `NDJSON line ${String(index + 1)} is not JSON`);
    }
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      value = ID_KEYS.map((key) => record[key]).find((v) => v !== undefined) ?? line;
    }
    devices.push(typeof value === 'string' ? value : line);
  });
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
