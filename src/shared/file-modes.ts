import { chmod, mkdir } from 'node:fs/promises';

/**
 * Permissions of what fleetscan writes: archives, exports and reports hold device ids, failure
 * reasons and tenant names, so by default only the owner reads them (files 0600, directories
 * 0700), whatever the umask. `files.mode` / `files.dirMode` in the configuration widen them.
 */
export interface FileModes {
  file: number;
  dir: number;
}

export const DEFAULT_FILE_MODES: Readonly<FileModes> = { file: 0o600, dir: 0o700 };

/** Sets the mode exactly (open and mkdir modes are reduced by the umask; chmod is not). */
export async function applyFileMode(path: string, modes: FileModes = DEFAULT_FILE_MODES) {
  await chmod(path, modes.file);
}

/** `mkdir -p` whose new directories get `modes.dir`; existing ones are left as they are. */
export async function makeDirectory(path: string, modes: FileModes = DEFAULT_FILE_MODES) {
  const first = await mkdir(path, { recursive: true, mode: modes.dir });
  if (first !== undefined) await chmod(path, modes.dir);
}
