import type { DemoUser } from './demo-users.js';

/** What a person needs to sign in to the demo's dashboard (printed, and `dashboard` in `--json`). */
export interface DemoDashboardFacts {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** The simulator's origin, whose sign-in page lists the users (its certificate is self-signed). */
  signInPage: string;
  /** That certificate, for a browser or client that should trust it instead of warning. */
  caFile: string;
  users: readonly DemoUser[];
  /** How the demo ends, taking Redis's keys, the simulator and the dashboard with it. */
  stop: string;
}

/** The lines printed before the campaign starts. */
export function formatDashboardFacts(facts: DemoDashboardFacts): string {
  const width = Math.max(...facts.users.map((u) => u.role.length));
  return [
    `Dashboard ${facts.url} (\`fleetscan dashboard --allow-actions\`, sign-in with Entra ID on the simulator)`,
    `  Open it and press Sign in: the simulator's sign-in page at ${facts.signInPage} lists these test users`,
    `  (its certificate is self-signed: accept the browser's warning, or trust ${facts.caFile})`,
    ...facts.users.map((u) => `    ${u.role.padEnd(width)}  ${u.username}  (${u.displayName})`),
    '',
  ].join('\n');
}

/** The line printed after the summary, while everything keeps running. */
export function formatKeepRunning(facts: DemoDashboardFacts): string {
  return `Dashboard ${facts.url} keeps running with Redis, the simulator and the workers: ${facts.stop}\n`;
}
