import type { DeviceRecord, DeviceState } from './campaign.js';

/**
 * The compact JSON kept per device in `${prefix}:campaign:${id}:devices`. One-letter names and
 * omitted empty fields keep a waiting device at `{"s":"q"}` (9 bytes): with 100,000s of devices
 * per campaign, every byte of this record is paid for in Redis memory. The Lua scripts in `lua/`
 * read and write the same names.
 */
export interface CompactDevice {
  /** state: q queued, d deferred, r requested, f failed, c cancelled */
  s: string;
  /** attempts */
  n?: number;
  /** MachineAction id, its status and its creationDateTimeUtc */
  a?: string;
  v?: string;
  c?: string;
  /** failure reason */
  r?: string;
  /** requestedAt (ms) */
  t?: number;
  /** 1 when the device joined an action someone else had started */
  j?: number;
  /** sentAt (ms) */
  x?: number;
  /** deferredUntil (ms) */
  u?: number;
  /** firstBusyAt (ms) */
  b?: number;
}

const STATE_BY_CODE: Readonly<Record<string, DeviceState>> = {
  q: 'queued',
  d: 'deferred',
  r: 'requested',
  f: 'failed',
  c: 'cancelled',
};

export const CODE_BY_STATE: Readonly<Record<DeviceState, string>> = {
  queued: 'q',
  deferred: 'd',
  requested: 'r',
  failed: 'f',
  cancelled: 'c',
};

/** Maps a stored record to the public `DeviceRecord`; throws on a record no script wrote. */
export function decodeDevice(machineId: string, json: string): DeviceRecord {
  const raw = JSON.parse(json) as CompactDevice;
  const state = STATE_BY_CODE[raw.s];
  if (!state) throw new Error(`Corrupt device record for ${machineId}: ${json.slice(0, 80)}`);
  return {
    machineId,
    state,
    machineActionId: raw.a ?? null,
    actionStatus: raw.v ?? null,
    actionCreatedAt: raw.c ?? null,
    reason: raw.r ?? null,
    attempts: raw.n ?? 0,
    requestedAt: raw.t ?? null,
    joinedExisting: raw.j === 1,
    sentAt: raw.x ?? null,
    deferredUntil: raw.u ?? null,
    firstBusyAt: raw.b ?? null,
  };
}

/** The state letter of a stored record without building the whole record (filters, sweeps). */
export function stateOf(json: string): DeviceState | undefined {
  const match = /"s":"([a-z])"/.exec(json);
  return match?.[1] === undefined ? undefined : STATE_BY_CODE[match[1]];
}
