import { mdeTimestamp } from './machine-actions.js';
import type { SimMachine } from './fleet.js';

/** A file seen on some devices: what `DeviceFileEvents` reports about it. */
export interface FileObservationInput {
  /** 64 lowercase hex characters. */
  sha256: string;
  fileName?: string;
  folderPath?: string;
  /** The fleet's devices at these indexes, or these machine ids, saw the file. */
  devices: readonly (number | string)[];
  /** How long before the simulator's start the first device saw it (default 1 day). */
  agoMs?: number;
}

/** One `DeviceFileEvents` row, with the columns the simulator's KQL subset knows. */
export interface FileEventRow {
  Timestamp: string;
  /** Kept as ms for filtering; not a column. */
  atMs: number;
  DeviceId: string;
  DeviceName: string;
  ActionType: 'FileCreated' | 'FileModified';
  FileName: string;
  FolderPath: string;
  SHA1: string;
  SHA256: string;
}

export const FILE_EVENT_COLUMNS = [
  'Timestamp',
  'DeviceId',
  'DeviceName',
  'ActionType',
  'FileName',
  'FolderPath',
  'SHA1',
  'SHA256',
] as const;
export type FileEventColumn = (typeof FILE_EVENT_COLUMNS)[number];

/**
 * The rows of every observation: two per device (the file created, then modified a minute
 * later), a minute apart from one device to the next, so a query must de-duplicate devices.
 */
export function fileEventRows(
  inputs: readonly FileObservationInput[],
  machines: readonly SimMachine[],
  startMs: number,
): FileEventRow[] {
  const byId = new Map(machines.map((m) => [m.id, m]));
  const rows: FileEventRow[] = [];
  for (const [k, input] of inputs.entries()) {
    if (!/^[0-9a-f]{64}$/.test(input.sha256))
      throw new Error(
        `\`fileObservations[${String(k)}].sha256\` must be 64 lowercase hex characters`,
      );
    const fileName = input.fileName ?? 'payload.exe';
    const folderPath = `${input.folderPath ?? 'C:\\Users\\Public\\Downloads'}\\${fileName}`;
    for (const [i, ref] of input.devices.entries()) {
      const machine = typeof ref === 'number' ? machines[ref] : byId.get(ref);
      if (!machine)
        throw new Error(`\`fileObservations[${String(k)}].devices[${String(i)}]\`: no such device`);
      const atMs = startMs - (input.agoMs ?? 86_400_000) + i * 60_000;
      for (const [j, actionType] of (['FileCreated', 'FileModified'] as const).entries()) {
        rows.push({
          Timestamp: mdeTimestamp(atMs + j * 60_000),
          atMs: atMs + j * 60_000,
          DeviceId: machine.id,
          DeviceName: machine.computerDnsName,
          ActionType: actionType,
          FileName: fileName,
          FolderPath: folderPath,
          SHA1: input.sha256.slice(0, 40),
          SHA256: input.sha256,
        });
      }
    }
  }
  return rows;
}
