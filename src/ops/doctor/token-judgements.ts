import { ConfigError } from '../../config/load.js';
import { loginCommand } from '../../auth/delegated-errors.js';
import type { TokenClaims } from '../../auth/token-claims.js';
import { TokenError } from '../../auth/token-error.js';
import { fail, ok, warn, type CheckResult } from './check-result.js';

const TLS_PROBLEM =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate|certificate has expired|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID/i;

/** The certificate problem somewhere in an error's cause chain (Node's code or text), if any. */
export function findTlsProblem(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; message?: unknown; errorMessage?: unknown };
    for (const text of [e.code, e.message, e.errorMessage]) {
      if (typeof text === 'string') {
        const match = TLS_PROBLEM.exec(text);
        if (match) return match[0];
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const TRUST_FIX =
  'Point NODE_EXTRA_CA_CERTS at the PEM of the private CA (or TLS-inspecting proxy) that signed this certificate, then run again.';

const GUID = /^[0-9a-f-]{36}$/i;

/** Why no token could be had, and the one thing to do about it. */
export function judgeTokenFailure(error: unknown, tenant: string): CheckResult {
  const id = 'tenant.token';
  const tls = findTlsProblem(error);
  if (tls) {
    return fail(
      'tenant',
      id,
      `no token: the login host's TLS certificate is not trusted (${tls})`,
      TRUST_FIX,
    );
  }
  if (error instanceof ConfigError) {
    return fail(
      'tenant',
      id,
      `no credentials: ${error.issues.map((i) => i.path).join(', ')} missing or conflicting`,
      'Set MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET (or MDE_CERTIFICATE_PATH), or set MDE_AUTH=delegated and run fleetscan login.',
    );
  }
  if (error instanceof TokenError) {
    if (error.code === 'sign_in_required') {
      return fail('tenant', id, `no token: ${error.message}`, `Run ${loginCommand(tenant)}.`);
    }
    if (error.code === 'invalid_client' && /7000215|secret/i.test(error.message)) {
      return fail(
        'tenant',
        id,
        'no token: Entra refused the client secret (AADSTS7000215: wrong or expired secret)',
        'Create a new client secret for the app registration and set MDE_CLIENT_SECRET to its Value (not its Secret ID).',
      );
    }
    if (error.code === 'authority_uri_insecure') {
      return fail(
        'tenant',
        id,
        'no token: MSAL talks to https login hosts only, and MDE_AUTHORITY_HOST is http',
        'Set MDE_AUTHORITY_HOST to an https URL (the simulator serves one with --tls).',
      );
    }
    if (error.code.startsWith('certificate_')) {
      return fail(
        'tenant',
        id,
        `no token: ${error.message}`,
        'Fix the PEM file MDE_CERTIFICATE_PATH names (certificate plus its private key).',
      );
    }
    return fail(
      'tenant',
      id,
      `no token: ${error.message}`,
      error.transient
        ? 'Check the network path to the Entra login host (proxy, firewall) and run again.'
        : 'Check MDE_TENANT_ID, MDE_CLIENT_ID and the credential against the app registration in Entra.',
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return fail(
    'tenant',
    id,
    `no token: ${message}`,
    'Run again with LOG_LEVEL=debug to see the cause.',
  );
}

/** Well-known directory role template ids (`wids`) worth naming. */
const DIRECTORY_ROLES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  '5f2222b1-57c3-48ba-8ad5-d4759f1fde6f': 'Security Operator',
  '5d6b6bb7-de71-4623-b4af-96380a352509': 'Security Reader',
  'b79fbf4d-3ef9-4689-8143-76b194e85509': 'User (default)',
};

export interface PermissionNeeds {
  /** Whether proof of completion (verify, hunting) is on: it needs ThreatHunting.Read.All. */
  verify: boolean;
}

/**
 * What the token's permissions allow, against what fleetscan needs: Machine.Scan for scans (✖),
 * Machine.Read.All for --query/--tag/--group, lost-reply recovery and tracking (⚠),
 * ThreatHunting.Read.All when verify is on (⚠). `roles` for app tokens, `scp` for delegated.
 */
export function judgePermissions(claims: TokenClaims, needs: PermissionNeeds): CheckResult[] {
  const delegated = claims.kind === 'delegated';
  const granted = delegated ? claims.scopes : claims.roles;
  const kind = delegated ? 'delegated' : 'application';
  const consent = delegated ? 'grant consent' : 'grant admin consent';
  const has = (...names: string[]) => names.some((n) => granted.includes(n));
  const results: CheckResult[] = [];
  const listed = granted.length > 0 ? granted.join(', ') : 'none';
  results.push(
    ok(
      'tenant',
      'tenant.permissions',
      `${delegated ? 'scopes (scp)' : 'roles'} in the token: ${listed}`,
    ),
  );
  results.push(
    has('Machine.Scan')
      ? ok('tenant', 'tenant.permission.scan', 'Machine.Scan: scans can be requested')
      : fail(
          'tenant',
          'tenant.permission.scan',
          'Machine.Scan missing: every scan request would be refused (403)',
          delegated
            ? `In Entra, add the WindowsDefenderATP delegated permission Machine.Scan to the app registration and ${consent}; the user also needs Defender's "Active remediation actions" role.`
            : `In Entra, add the WindowsDefenderATP application permission Machine.Scan to the app registration and ${consent}.`,
        ),
  );
  results.push(
    has('Machine.Read.All', 'Machine.ReadWrite.All')
      ? ok(
          'tenant',
          'tenant.permission.read',
          'Machine.Read.All: --query/--tag/--group and tracking work',
        )
      : warn(
          'tenant',
          'tenant.permission.read',
          'Machine.Read.All missing: --query/--tag/--group, lost-reply recovery and status tracking are refused',
          `In Entra, add the WindowsDefenderATP ${kind} permission Machine.Read.All and ${consent}.`,
        ),
  );
  results.push(
    !needs.verify
      ? ok(
          'tenant',
          'tenant.permission.hunting',
          'ThreatHunting.Read.All: a Microsoft Graph permission, not in this token; tenant.graph checks Graph',
        )
      : has('ThreatHunting.Read.All')
        ? ok('tenant', 'tenant.permission.hunting', 'ThreatHunting.Read.All: verify can query')
        : warn(
            'tenant',
            'tenant.permission.hunting',
            'ThreatHunting.Read.All missing: verify cannot prove scans finished',
            `In Entra, add the Microsoft Graph ${kind} permission ThreatHunting.Read.All and ${consent}.`,
          ),
  );
  if (delegated) {
    const roles = claims.directoryRoles.map(
      (w) => DIRECTORY_ROLES[w] ?? (GUID.test(w) ? w : 'unknown'),
    );
    results.push(
      ok(
        'tenant',
        'tenant.directory-roles',
        `signed in as ${claims.user ?? 'unknown user'}; directory roles: ${roles.length > 0 ? roles.join(', ') : 'none'} (Defender's "Active remediation actions" role and device groups are checked by the API per device)`,
      ),
    );
  }
  return results;
}

/** The token's remaining life: ⚠ when already expired (a clock problem or a static token). */
export function judgeExpiry(claims: TokenClaims, kind: string, nowMs: number): CheckResult {
  if (claims.expiresAt === undefined) {
    return ok('tenant', 'tenant.token', `token obtained (${kind}), no expiry in it`);
  }
  const minutes = Math.round((claims.expiresAt - nowMs) / 60_000);
  const at = new Date(claims.expiresAt).toISOString().slice(0, 19);
  if (claims.expiresAt <= nowMs) {
    return warn(
      'tenant',
      'tenant.token',
      `token obtained (${kind}) but already expired at ${at}Z`,
      kind === 'static'
        ? 'Replace MDE_ACCESS_TOKEN with a fresh token, or configure client credentials instead.'
        : 'Sync this host clock with NTP: Entra just issued this token.',
    );
  }
  return ok(
    'tenant',
    'tenant.token',
    `token obtained (${kind}), expires ${at}Z (in ${String(minutes)} min)`,
  );
}
