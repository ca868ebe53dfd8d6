import type { DashboardRole } from '../config/signin-schema.js';
import { APP_ROLE } from '../dashboard/roles.js';
import type { SimUserInput } from '../simulator/options.js';

/** A test user of the simulated tenant who signs in to the demo's dashboard with one role. */
export interface DemoUser {
  role: DashboardRole;
  username: string;
  displayName: string;
}

/** One user per dashboard role, weakest first, as the sign-in page and the demo list them. */
export const DEMO_USER_LIST: readonly DemoUser[] = [
  { role: 'viewer', username: 'vera@contoso.test', displayName: 'Vera Viewer' },
  { role: 'operator', username: 'otto@contoso.test', displayName: 'Otto Operator' },
  { role: 'admin', username: 'ada@contoso.test', displayName: 'Ada Admin' },
];

/** The same users as the simulator takes them: each holds the app role of their dashboard role. */
export const DEMO_USERS: readonly SimUserInput[] = DEMO_USER_LIST.map((user) => ({
  username: user.username,
  displayName: user.displayName,
  appRoles: [APP_ROLE[user.role]],
}));

/** The dashboard's sign-in callback, as the simulator's app registration lists it. */
export function demoRedirectUri(port: number): string {
  return `http://127.0.0.1:${String(port)}/signin/callback`;
}
