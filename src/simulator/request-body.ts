import type { FastifyRequest } from 'fastify';

export type BodyCheck<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Reads a JSON object body the strict way: `Content-Type: application/json`, an object, only
 * the named properties (names are case-sensitive), each required one present.
 */
export function readJsonObject(
  request: FastifyRequest,
  allowed: readonly string[],
  required: readonly string[],
): BodyCheck<Record<string, unknown>> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;\s*charset=utf-8\s*)?$/i.test(contentType)) {
    return { ok: false, message: 'Request body must be JSON with Content-Type: application/json.' };
  }
  const text = typeof request.body === 'string' ? request.body : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, message: 'Request body is not valid JSON.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, message: 'Request body must be a JSON object.' };
  }
  const body = parsed as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      return { ok: false, message: `Unknown property '${key}' in request body.` };
  }
  for (const key of required) {
    if (!(key in body)) return { ok: false, message: `Missing required property '${key}'.` };
  }
  return { ok: true, value: body };
}

/** A required, non-blank string property. */
export function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}
