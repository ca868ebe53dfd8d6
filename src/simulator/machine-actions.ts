import type { SimMachine } from './fleet.js';

export const ACTION_STATUSES = [
  'Pending',
  'InProgress',
  'Succeeded',
  'Failed',
  'TimeOut',
  'Cancelled',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
const TERMINAL: ReadonlySet<ActionStatus> = new Set([
  'Succeeded',
  'Failed',
  'TimeOut',
  'Cancelled',
]);

export const ACTION_TYPES = [
  'RunAntiVirusScan',
  'Offboard',
  'LiveResponse',
  'CollectInvestigationPackage',
  'Isolate',
  'Unisolate',
  'StopAndQuarantineFile',
  'RestrictCodeExecution',
  'UnrestrictCodeExecution',
] as const;

/** How long each step lasts, in ms of (already scaled) simulator time. */
export interface Lifecycle {
  /** Pending until the device picks the command up. */
  pendingMs: number;
  /** InProgress until Succeeded (or Failed). */
  inProgressMs: number;
  /** An offline device's action stays Pending this long, then ends TimeOut (or Failed). */
  offlineTimeoutMs: number;
  /** How long a scan somebody else started before us keeps its device busy. */
  otherScanMs: number;
}

export interface Transition {
  atMs: number;
  status: ActionStatus;
}

/** An action as stored: fixed fields plus its planned transitions, read at any instant. */
export interface StoredAction {
  id: string;
  type: 'RunAntiVirusScan';
  scope: string;
  requestor: string;
  requestorComment: string;
  requestSource: string;
  machineId: string;
  computerDnsName: string;
  createdMs: number;
  transitions: Transition[];
  cancellationRequestor: string | null;
  cancellationComment: string | null;
  cancellationMs: number | null;
  /** The DeviceEvents row the device reports after the scan ran (null: it never reports). */
  evidence?: ScanEvidence | null;
}

/** A scan's outcome as the device reports it in `DeviceEvents`, some time after Succeeded. */
export interface ScanEvidence {
  atMs: number;
  actionType: 'AntivirusScanCompleted' | 'AntivirusScanCancelled' | 'AntivirusScanFailed';
}

/** Microsoft's timestamp style: seven fraction digits, `Z`. */
export function mdeTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.(\d{3})Z$/, (_match, millis: string) => `.${millis}0000Z`);
}

function transitionAt(action: StoredAction, nowMs: number): Transition {
  let current: Transition = { atMs: action.createdMs, status: 'Pending' };
  for (const t of action.transitions) {
    if (t.atMs <= nowMs) current = t;
  }
  return current;
}

export function statusAt(action: StoredAction, nowMs: number): ActionStatus {
  return transitionAt(action, nowMs).status;
}

export function isUnfinished(action: StoredAction, nowMs: number): boolean {
  return !TERMINAL.has(statusAt(action, nowMs));
}

/** The MachineAction JSON with every documented field, as the API shows it at `nowMs`. */
export function actionView(action: StoredAction, nowMs: number): Record<string, unknown> {
  const current = transitionAt(action, nowMs);
  return {
    id: action.id,
    type: action.type,
    title: null,
    requestor: action.requestor,
    requestorComment: action.requestorComment,
    status: current.status,
    machineId: action.machineId,
    computerDnsName: action.computerDnsName,
    creationDateTimeUtc: mdeTimestamp(action.createdMs),
    lastUpdateDateTimeUtc: mdeTimestamp(current.atMs),
    cancellationRequestor: action.cancellationRequestor,
    cancellationComment: action.cancellationComment,
    cancellationDateTimeUtc:
      action.cancellationMs === null ? null : mdeTimestamp(action.cancellationMs),
    errorHResult: current.status === 'Failed' ? -2147024891 : 0,
    scope: action.scope,
    externalId: null,
    requestSource: action.requestSource,
    relatedFileInfo: null,
    commands: [],
    troubleshootInfo: null,
  };
}

export interface NewAction {
  id: string;
  machine: SimMachine;
  requestor: string;
  comment: string;
  scope: string;
  requestSource: string;
  createdMs: number;
  transitions: Transition[];
}

/** Every action of the simulated tenant, with an index by device. */
export class ActionStore {
  private readonly byId = new Map<string, StoredAction>();
  private readonly byMachine = new Map<string, StoredAction[]>();

  add(input: NewAction): StoredAction {
    const action: StoredAction = {
      id: input.id,
      type: 'RunAntiVirusScan',
      scope: input.scope,
      requestor: input.requestor,
      requestorComment: input.comment,
      requestSource: input.requestSource,
      machineId: input.machine.id,
      computerDnsName: input.machine.computerDnsName,
      createdMs: input.createdMs,
      transitions: [...input.transitions].sort((a, b) => a.atMs - b.atMs),
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationMs: null,
    };
    this.byId.set(action.id, action);
    const list = this.byMachine.get(action.machineId) ?? [];
    list.push(action);
    this.byMachine.set(action.machineId, list);
    return action;
  }

  get(id: string): StoredAction | undefined {
    return this.byId.get(id);
  }

  /** The newest unfinished action of a device, if any. */
  unfinishedFor(machineId: string, nowMs: number): StoredAction | undefined {
    const list = this.byMachine.get(machineId) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const action = list[i];
      if (action && isUnfinished(action, nowMs)) return action;
    }
    return undefined;
  }

  /** Stops an unfinished action: it becomes Cancelled now and plans nothing more. */
  cancel(action: StoredAction, requestor: string, comment: string, nowMs: number): void {
    action.transitions = action.transitions.filter((t) => t.atMs <= nowMs);
    action.transitions.push({ atMs: nowMs, status: 'Cancelled' });
    action.cancellationRequestor = requestor;
    action.cancellationComment = comment;
    action.cancellationMs = nowMs;
    // Cancelled before it ran: the device never scans, so it never reports.
    action.evidence = null;
  }

  /** Every action of one device, oldest first. */
  forMachine(machineId: string): readonly StoredAction[] {
    return this.byMachine.get(machineId) ?? [];
  }

  /** All actions, oldest first. */
  all(): StoredAction[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}

/** The planned course of a fresh scan on `machine`, from `createdMs`. */
export function planScan(
  machine: SimMachine,
  createdMs: number,
  lifecycle: Lifecycle,
  fails: boolean,
): Transition[] {
  if (machine.simulation.offline) {
    return [
      {
        atMs: createdMs + lifecycle.offlineTimeoutMs,
        status: machine.simulation.offlineOutcome ?? 'TimeOut',
      },
    ];
  }
  const started = createdMs + lifecycle.pendingMs;
  return [
    { atMs: started, status: 'InProgress' },
    { atMs: started + lifecycle.inProgressMs, status: fails ? 'Failed' : 'Succeeded' },
  ];
}
