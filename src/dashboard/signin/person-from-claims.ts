import type { DashboardRole } from '../../config/signin-schema.js';
import { APP_ROLE, ROLES, rolesUpTo, strongestRole, type Person } from '../roles.js';
import { SignInRefused } from './id-token.js';

/** How roles are read from a token: the config's group map and the overage rule. */
export interface RoleMapping {
  /** Group object id → role (`dashboard.entra.groups`). */
  groups: Readonly<Record<string, DashboardRole>>;
  /** `deny` or `app-roles` (`dashboard.entra.groupOverage`). */
  groupOverage: 'deny' | 'app-roles';
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Whether Entra left the groups out for being too many (`_claim_names.groups`). */
function hasGroupOverage(claims: Record<string, unknown>): boolean {
  const names = claims['_claim_names'];
  return typeof names === 'object' && names !== null && 'groups' in names;
}

/**
 * The person an ID token stands for, with the strongest role it grants: app roles from `roles`
 * (FleetScan.Viewer/Operator/Admin) and mapped groups from `groups`. Refuses (403) a token that
 * grants no role, and one whose group list overflowed while groups are mapped and the overage
 * rule is `deny`, saying which and what to do.
 */
export function personFromClaims(claims: Record<string, unknown>, mapping: RoleMapping): Person {
  const oid = typeof claims['oid'] === 'string' ? claims['oid'] : '';
  const upn =
    [claims['preferred_username'], claims['upn'], claims['email']].find(
      (v): v is string => typeof v === 'string' && v !== '',
    ) ?? oid;
  if (!oid) throw new SignInRefused('no_oid', 'The ID token names no object id (oid).');
  const held: DashboardRole[] = ROLES.filter((role) =>
    strings(claims['roles']).includes(APP_ROLE[role]),
  );
  const groupsMapped = Object.keys(mapping.groups).length > 0;
  if (groupsMapped && hasGroupOverage(claims) && mapping.groupOverage === 'deny') {
    throw new SignInRefused(
      'group_overage',
      `${upn} is in more than 200 groups, so Entra sent no group list and the group mapping ` +
        'cannot be applied. Assign a FleetScan app role to this person, or set ' +
        'dashboard.entra.groupOverage to app-roles.',
      403,
    );
  }
  for (const group of strings(claims['groups'])) {
    const role = mapping.groups[group];
    if (role) held.push(role);
  }
  const strongest = strongestRole(held);
  if (!strongest) {
    throw new SignInRefused(
      'no_role',
      `${upn} holds no FleetScan role: ask an administrator to assign ${APP_ROLE.viewer}, ` +
        `${APP_ROLE.operator} or ${APP_ROLE.admin} (or a group mapped to one).`,
      403,
    );
  }
  const name = typeof claims['name'] === 'string' && claims['name'] ? claims['name'] : upn;
  return { upn, oid, name, roles: rolesUpTo(strongest), via: 'entra' };
}
