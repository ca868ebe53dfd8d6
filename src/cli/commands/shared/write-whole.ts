import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyFileMode, DEFAULT_FILE_MODES, type FileModes } from '../../../shared/file-modes.js';
import { UsageError } from '../../errors.js';

/**
 * Writes next to `file` under a temporary name and renames it into place when complete, so a
 * reader never sees half an export or report (rename is atomic within one directory). The file
 * gets `modes.file` (0600 unless `files.mode` says otherwise) before it appears under its name.
 */
export async function writeWhole(
  file: string,
  text: string | Readable,
  modes: FileModes = DEFAULT_FILE_MODES,
): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const source = typeof text === 'string' ? Readable.from([text]) : text;
    await pipeline(source, createWriteStream(temporary, { flags: 'wx', mode: modes.file }));
    await applyFileMode(temporary, modes);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined)
      throw new UsageError(`Cannot write ${file} (${code})`, { cause: error });
    throw error;
  }
}
