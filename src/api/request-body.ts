import { createHash } from 'node:crypto';
import { ApiProblem } from './problem.js';

/** A request body read as it arrives: size-checked, hashed per chunk, never copied whole. */
export interface MeteredBody {
  chunks: AsyncIterable<Buffer>;
  /** sha256 (hex) of what was read; complete once `chunks` is read to the end. */
  digest(): string;
}

const tooLarge = (limit: number) =>
  new ApiProblem(
    'payload-too-large',
    `The body is larger than ${String(limit)} bytes (api.bodyLimit)`,
  );

/**
 * The raw payload of a request as chunks, refused past `limit` bytes (Content-Length is
 * checked before a byte is read). Parsers that stream (NDJSON) never hold the whole body; the
 * digest feeds the Idempotency-Key fingerprint without a second pass over 16 MiB.
 */
export function meterBody(
  payload: AsyncIterable<Buffer | string>,
  limit: number,
  contentLength: string | undefined,
): MeteredBody {
  if (contentLength !== undefined && Number(contentLength) > limit) throw tooLarge(limit);
  const hash = createHash('sha256');
  async function* chunks(): AsyncIterable<Buffer> {
    let bytes = 0;
    for await (const raw of payload) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      bytes += chunk.length;
      if (bytes > limit) throw tooLarge(limit);
      hash.update(chunk);
      yield chunk;
    }
  }
  return { chunks: chunks(), digest: () => hash.digest('hex') };
}
