import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { duration } from './duration-schema.js';
import type { ConfigIssue } from './load.js';
import { secretFromEnv, secretFromFile } from './tenant-secrets.js';

/** The dashboard's roles, weakest first (src/dashboard/roles.ts says what each may do). */
export const DASHBOARD_ROLES = ['viewer', 'operator', 'admin'] as const;
export type DashboardRole = (typeof DASHBOARD_ROLES)[number];

/** What a sign-in whose group list was too long for the token (`_claim_names.groups`) gets. */
export const GROUP_OVERAGE = ['deny', 'app-roles'] as const;

/** The dashboard's client secret and certificate password, read from their references. */
export interface SignInSecrets {
  clientSecret?: string | undefined;
  certificatePassword?: string | undefined;
}

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'Expected the name of an environment variable')
  .nullable();
const text = z.string().trim().min(1).nullable();
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `dashboard.entra`: sign-in with Microsoft Entra ID (used when `dashboard.auth` is `entra`).
 * The client secret is named by reference only (a variable or a file), as tenants' are.
 */
export const entraSignInShape = z
  .strictObject({
    tenantId: text,
    clientId: text,
    clientSecretEnv: envName,
    clientSecretFile: text,
    certificatePath: text,
    certificatePasswordEnv: envName,
    /** null: `defender.authorityHost` (the cloud's login host). */
    authorityHost: z.url({ protocol: /^https?$/, error: 'Expected an http(s) URL' }).nullable(),
    /** The dashboard's public `/signin/callback` URL, exactly as registered in the app. */
    redirectUri: z.url({ protocol: /^https?$/, error: 'Expected an http(s) URL' }).nullable(),
    /** Group object id → role, for tenants that assign groups instead of app roles. */
    groups: z.record(
      z.string().regex(GUID, 'Expected a group object id (a GUID)'),
      z.enum(DASHBOARD_ROLES),
    ),
    /**
     * A person in more than 200 groups gets no group list in the token. `deny`: refused with a
     * message saying so; `app-roles`: only their app roles count.
     */
    groupOverage: z.enum(GROUP_OVERAGE),
    /** A session unused this long ends. */
    idleTimeout: duration(1_000),
    /** A session ends this long after sign-in, used or not. */
    absoluteTimeout: duration(1_000),
  })
  .transform((entra) => {
    const secrets: SignInSecrets = {};
    return { ...entra, secrets };
  });

export type EntraSignInConfig = z.output<typeof entraSignInShape>;

/** The issues of `dashboard.auth: entra` without what it needs (added to the schema's). */
export function entraSignInIssues(entra: EntraSignInConfig): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const need = (key: 'tenantId' | 'clientId' | 'redirectUri', what: string) => {
    if (entra[key] === null) issues.push({ path: [key], message: `Expected ${what}` });
  };
  need('tenantId', 'the tenant id (a GUID or domain) of the app registration');
  need('clientId', 'the application (client) id of the app registration');
  need('redirectUri', "the dashboard's public /signin/callback URL, as registered");
  const credentials = [entra.clientSecretEnv, entra.clientSecretFile, entra.certificatePath];
  if (credentials.filter((c) => c !== null).length !== 1) {
    issues.push({
      path: ['clientSecretEnv'],
      message: 'Expected exactly one of clientSecretEnv, clientSecretFile, certificatePath',
    });
  }
  if (entra.certificatePasswordEnv !== null && entra.certificatePath === null) {
    issues.push({ path: ['certificatePasswordEnv'], message: 'Only with certificatePath' });
  }
  if (entra.absoluteTimeout < entra.idleTimeout) {
    issues.push({ path: ['absoluteTimeout'], message: 'Expected at least idleTimeout' });
  }
  return issues;
}

/** Reads the client secret (or certificate password) from the variable or file it names. */
export function resolveSignInSecrets(
  entra: EntraSignInConfig,
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): { entra: EntraSignInConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const at = (key: string) => `dashboard.entra.${key}`;
  const secrets: SignInSecrets = {
    clientSecret:
      secretFromEnv(at('clientSecretEnv'), entra.clientSecretEnv, env, issues) ??
      secretFromFile(at('clientSecretFile'), entra.clientSecretFile, readFile, issues),
    certificatePassword: secretFromEnv(
      at('certificatePasswordEnv'),
      entra.certificatePasswordEnv,
      env,
      issues,
    ),
  };
  return { entra: { ...entra, secrets }, issues };
}
