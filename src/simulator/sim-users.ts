import { createHash } from 'node:crypto';
import type { TokenIdentity } from './access-tokens.js';
import type { ApiFamily } from './call-log.js';
import type { SimMachine } from './fleet.js';
import type { SimUserInput } from './options.js';

/** A user who can sign in with a device code, with what Defender lets them do. */
export interface SimUser {
  username: string;
  objectId: string;
  scopes: readonly string[];
  wids: readonly string[];
  /** undefined: every device group. */
  deviceGroups: ReadonlySet<string> | undefined;
  remediation: boolean;
  displayName: string;
  appRoles: readonly string[];
  groups: readonly string[];
}

export const DEFAULT_USER_SCOPES = ['Machine.Scan', 'Machine.Read.All'] as const;

export function resolveUsers(inputs: readonly SimUserInput[] = []): Map<string, SimUser> {
  const users = new Map<string, SimUser>();
  for (const input of inputs) {
    const username = input.username.toLowerCase();
    if (users.has(username)) throw new Error(`\`users\`: ${input.username} is listed twice`);
    const hex = createHash('sha256').update(username).digest('hex');
    users.set(username, {
      username,
      objectId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`,
      scopes: [...(input.scopes ?? DEFAULT_USER_SCOPES)],
      wids: [...(input.wids ?? [])],
      deviceGroups: input.deviceGroups ? new Set(input.deviceGroups) : undefined,
      remediation: input.remediation ?? true,
      displayName: input.displayName ?? username,
      appRoles: [...(input.appRoles ?? [])],
      groups: [...(input.groups ?? [])],
    });
  }
  return users;
}

/**
 * The permissions that let a token use an endpoint family (any one suffices), as the API
 * documents them: scans need Machine.Scan; cancelling an action any of the machine-action
 * permissions (Microsoft Learn, "Cancel machine action API"); reads Machine.Read.All or
 * Machine.ReadWrite.All. Application tokens are judged by `roles`, user tokens by `scp`.
 */
const NEEDED: Readonly<Record<ApiFamily, readonly string[]>> = {
  scan: ['Machine.Scan'],
  cancel: [
    'Machine.CollectForensics',
    'Machine.Isolate',
    'Machine.RestrictExecution',
    'Machine.Scan',
    'Machine.Offboard',
    'Machine.StopAndQuarantine',
    'Machine.LiveResponse',
  ],
  machines: ['Machine.Read.All', 'Machine.ReadWrite.All'],
  machineActions: ['Machine.Read.All', 'Machine.ReadWrite.All'],
};

/** The permission missing for this call, or undefined when the token holds one that suffices. */
export function missingPermission(identity: TokenIdentity, family: ApiFamily): string | undefined {
  const granted = identity.user === undefined ? identity.roles : identity.scopes;
  const needed = NEEDED[family];
  return needed.some((p) => granted.includes(p)) ? undefined : needed.join(' or ');
}

/** Whether the caller reaches this device: apps reach all, users only their device groups. */
export function reachesMachine(
  users: ReadonlyMap<string, SimUser>,
  identity: TokenIdentity,
  machine: SimMachine,
): boolean {
  if (identity.user === undefined) return true;
  const user = users.get(identity.user);
  if (!user) return false;
  if (!user.deviceGroups) return true;
  return machine.rbacGroupName !== null && user.deviceGroups.has(machine.rbacGroupName);
}

/** Whether a user may run remediation actions (Defender's "Active remediation actions" role). */
export function mayRemediate(
  users: ReadonlyMap<string, SimUser>,
  identity: TokenIdentity,
): boolean {
  if (identity.user === undefined) return true;
  return users.get(identity.user)?.remediation ?? false;
}
