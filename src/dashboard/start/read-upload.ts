import { ApiProblem } from '../../api/problem.js';
import { meterBody } from '../../api/request-body.js';
import { StartRefused } from './start-refused.js';

/** `16 MiB`, `64 KiB`, `1,500 bytes`: a configured byte limit as written in binary units. */
export function formatLimit(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${String(bytes / (1024 * 1024))} MiB`;
  if (bytes % 1024 === 0) return `${String(bytes / 1024)} KiB`;
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** A device list sent as a request body (a pasted list or a file), as it arrives. */
export interface Upload {
  chunks: AsyncIterable<Buffer | string>;
  /** The Content-Length header, checked before a byte is read. */
  contentLength: string | undefined;
}

/**
 * The whole device list, refused past `limit` bytes (`api.bodyLimit`, the automation API's limit)
 * with a sentence naming it. Read whole before anything is parsed: a list cut off by the limit
 * must not leave a campaign of its first part behind.
 */
export async function readUpload(
  upload: Upload | null,
  limit: number,
  what = 'the device list',
): Promise<Buffer> {
  const missing =
    what === 'the device list'
      ? 'devices: paste machine ids or choose a file'
      : `${what}: paste it or choose a file`;
  if (upload === null) throw new StartRefused(400, missing);
  const tooLarge = new StartRefused(
    413,
    `${what.charAt(0).toUpperCase()}${what.slice(1)} is larger than ${formatLimit(limit)} (${limit.toLocaleString('en-US')} bytes, ` +
      'api.bodyLimit): split it into several campaigns, or raise api.bodyLimit.',
  );
  const parts: Buffer[] = [];
  try {
    const body = meterBody(upload.chunks, limit, upload.contentLength);
    for await (const chunk of body.chunks) parts.push(chunk);
  } catch (error) {
    if (error instanceof ApiProblem && error.kind === 'payload-too-large') throw tooLarge;
    throw error;
  }
  const bytes = Buffer.concat(parts);
  if (bytes.toString('utf8').trim() === '')
    throw new StartRefused(
      400,
      what === 'the device list'
        ? 'devices: the list is empty; paste machine ids or choose a file'
        : `${what}: it is empty; paste it or choose a file`,
    );
  return bytes;
}
