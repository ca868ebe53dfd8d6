import { resolveCloud } from '../../auth/clouds.js';
import { readTokenClaims } from '../../auth/token-claims.js';
import type { TenantAuthSettings } from '../../auth/tenant-auth.js';
import type { TokenProvider } from '../../auth/token-provider.js';
import type { CallGate } from '../../defender/call-gate.js';
import { createDefenderClient } from '../../defender/client.js';
import { DefenderError } from '../../defender/errors.js';
import type { Logger } from '../../shared/logger.js';
import { fail, ok, warn, type CheckResult } from './check-result.js';
import { probeTls } from './tls-probe.js';
import {
  findTlsProblem,
  judgeExpiry,
  judgePermissions,
  judgeTokenFailure,
  TRUST_FIX,
} from './token-judgements.js';

export interface TenantCheckDeps {
  tenant: TenantAuthSettings;
  /** Builds the tenant's token provider; may throw (missing credentials, bad certificate). */
  makeTokens: () => TokenProvider;
  /** The tenant's shared budget, or why there is none (Redis unreachable). */
  gate: CallGate | Error;
  log: Logger;
  now: () => number;
  /** Whether verify (hunting) is on, so ThreatHunting.Read.All is needed. */
  verify: boolean;
}

/**
 * One tenant: a token can be had, how long it lives, what it may do against what fleetscan
 * needs, and whether the API answers one cheap call (List Machines, `$top=1`) taken from the
 * tenant's shared budget like every other call.
 */
export async function checkTenant(deps: TenantCheckDeps): Promise<CheckResult[]> {
  const { tenant } = deps;
  const tag = (results: CheckResult[]) => results.map((r) => ({ ...r, tenant: tenant.name }));
  let tokens: TokenProvider;
  let token: string;
  try {
    tokens = deps.makeTokens();
    token = await tokens.getToken();
  } catch (error) {
    const judged = judgeTokenFailure(error, tenant.name);
    const host = resolveCloud(tenant.defender).authorityHost;
    // MSAL hides why it could not reach the login host; an untrusted certificate is the usual
    // reason behind a private CA or a TLS-inspecting proxy, so ask TLS directly.
    const tls = judged.fix === TRUST_FIX ? undefined : await probeTls(host);
    return tag([
      tls
        ? fail(
            'tenant',
            'tenant.token',
            `no token: the TLS certificate of ${host} is not trusted (${tls})`,
            TRUST_FIX,
          )
        : judged,
    ]);
  }
  const results: CheckResult[] = [];
  const claims = readTokenClaims(token);
  if (claims) {
    results.push(judgeExpiry(claims, tokens.kind, deps.now()));
    results.push(...judgePermissions(claims, { verify: deps.verify }));
  } else {
    results.push(
      warn(
        'tenant',
        'tenant.token',
        `token obtained (${tokens.kind}) but it is not a JWT, so its permissions cannot be read`,
        'Use client credentials or fleetscan login instead of an opaque MDE_ACCESS_TOKEN.',
      ),
    );
  }
  results.push(await checkApi(deps, tokens));
  return tag(results);
}

async function checkApi(deps: TenantCheckDeps, tokens: TokenProvider): Promise<CheckResult> {
  const id = 'tenant.api';
  if (deps.gate instanceof Error) {
    return warn(
      'tenant',
      id,
      'API not called: its budget lives in Redis, which is unreachable',
      'Fix Redis first (see above), then run fleetscan doctor again.',
    );
  }
  const { defender } = deps.tenant;
  const apiUrl = resolveCloud(defender).apiUrl;
  const client = createDefenderClient({
    apiUrl,
    tokens,
    gate: deps.gate,
    timeoutMs: defender.requestTimeout,
    pageSize: 1,
    throttleDefaultMs: 60_000,
    log: deps.log,
    getRetries: 0,
  });
  const started = deps.now();
  try {
    // The first page only ($top=1): enough to know the API answers and what it lets us see.
    const pages = client.listMachines()[Symbol.asyncIterator]();
    const first = await pages.next();
    await pages.return?.();
    const seen = first.done === true ? 0 : 1;
    return ok(
      'tenant',
      id,
      `API answers at ${apiUrl} (List Machines, ${String(deps.now() - started)} ms, ${seen === 0 ? 'no devices visible' : 'devices visible'})`,
    );
  } catch (error) {
    const tls = findTlsProblem(error);
    if (tls)
      return fail(
        'tenant',
        id,
        `API at ${apiUrl}: TLS certificate not trusted (${tls})`,
        TRUST_FIX,
      );
    if (!(error instanceof DefenderError)) {
      const message = error instanceof Error ? error.message : String(error);
      return fail(
        'tenant',
        id,
        `API at ${apiUrl} failed: ${message}`,
        'Check MDE_API_URL and the network path to it.',
      );
    }
    const said = `${String(error.status)} ${error.code}${error.apiMessage ? `: ${error.apiMessage}` : ''}`;
    if (error.status === 403) {
      return warn(
        'tenant',
        id,
        `API answers but refuses List Machines (${said})`,
        'Grant Machine.Read.All (see above) so fleetscan can read devices and actions.',
      );
    }
    if (error.status === 401) {
      return fail(
        'tenant',
        id,
        `API refuses the token (${said})`,
        'Make the token audience match the API: check MDE_CLOUD, MDE_TOKEN_SCOPE and MDE_API_URL.',
      );
    }
    if (error.status === 429) {
      return warn(
        'tenant',
        id,
        `API throttles this app (${said})`,
        'Wait for the pause to end; fleetscan resumes by itself.',
      );
    }
    return fail(
      'tenant',
      id,
      `API at ${apiUrl} failed (${error.status === 0 ? error.code : said})`,
      'Check MDE_API_URL and the network path (proxy, firewall) to the API.',
    );
  } finally {
    client.close();
  }
}
