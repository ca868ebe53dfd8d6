import type {
  CancelResult,
  DeviceRecord,
  DeviceState,
  DeviceThreats,
  ScanResult,
} from './campaign.js';

/**
 * The compact JSON kept per device in `${prefix}:campaign:{${id}}:devices`. One-letter names and
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
  /** 1: an earlier send was never answered (sticky until an action is recorded) */
  m?: number;
  /** deferredUntil (ms) */
  u?: number;
  /** firstBusyAt (ms) */
  b?: number;
  /** action lastUpdateDateTimeUtc (tracker) */
  w?: string;
  /** cancel result: c cancelled, f already-final, x refused */
  k?: string;
  /** scan result: c completed, x cancelled, f failed, a ambiguous, n no-evidence; its time and scan type */
  p?: string;
  pt?: string;
  pk?: string;
  /** threats found (verify): "0" when clean, else the JSON of `CompactThreats` */
  h?: string;
}

/** `DeviceThreats` in short names, kept as one string field of the device record. */
interface CompactThreats {
  n: number;
  t: string[];
  u: number;
  f: string[];
  a: number;
  at: string[];
  ft: string | null;
}

const CANCEL_BY_CODE: Readonly<Record<string, CancelResult>> = {
  c: 'cancelled',
  f: 'already-final',
  x: 'refused',
};
export const CODE_BY_CANCEL: Readonly<Record<CancelResult, string>> = {
  cancelled: 'c',
  'already-final': 'f',
  refused: 'x',
};
const SCAN_RESULT_BY_CODE: Readonly<Record<string, ScanResult>> = {
  c: 'completed',
  x: 'cancelled',
  f: 'failed',
  a: 'ambiguous',
  n: 'no-evidence',
};
export const CODE_BY_SCAN_RESULT: Readonly<Record<ScanResult, string>> = {
  completed: 'c',
  cancelled: 'x',
  failed: 'f',
  ambiguous: 'a',
  'no-evidence': 'n',
};

const STATE_BY_CODE: Readonly<Record<string, DeviceState>> = {
  q: 'queued',
  d: 'deferred',
  r: 'requested',
  f: 'failed',
  c: 'cancelled',
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
    maybeSent: raw.m === 1,
    deferredUntil: raw.u ?? null,
    firstBusyAt: raw.b ?? null,
    actionUpdatedAt: raw.w ?? null,
    cancelResult: raw.k === undefined ? null : (CANCEL_BY_CODE[raw.k] ?? null),
    scanResult: raw.p === undefined ? null : (SCAN_RESULT_BY_CODE[raw.p] ?? null),
    scanCompletedAt: raw.pt ?? null,
    scanEventType: raw.pk ?? null,
    threats: raw.h === undefined ? null : decodeThreats(raw.h),
  };
}

const CLEAN: DeviceThreats = {
  count: 0,
  names: [],
  unremediated: 0,
  files: [],
  alerts: 0,
  alertTitles: [],
  firstAt: null,
};

/** The `h` field: "0" for a clean device (most of a fleet: two bytes), else the compact JSON. */
export function encodeThreats(t: DeviceThreats): string {
  if (t.count === 0 && t.alerts === 0) return '0';
  const compact: CompactThreats = {
    n: t.count,
    t: t.names,
    u: t.unremediated,
    f: t.files,
    a: t.alerts,
    at: t.alertTitles,
    ft: t.firstAt,
  };
  return JSON.stringify(compact);
}

function decodeThreats(h: string): DeviceThreats {
  if (h === '0') return { ...CLEAN, names: [], files: [], alertTitles: [] };
  const c = JSON.parse(h) as CompactThreats;
  return {
    count: c.n,
    names: c.t,
    unremediated: c.u,
    files: c.f,
    alerts: c.a,
    alertTitles: c.at,
    firstAt: c.ft,
  };
}

/** The state letter of a stored record without building the whole record (filters, sweeps). */
export function stateOf(json: string): DeviceState | undefined {
  const match = /"s":"([a-z])"/.exec(json);
  return match?.[1] === undefined ? undefined : STATE_BY_CODE[match[1]];
}
