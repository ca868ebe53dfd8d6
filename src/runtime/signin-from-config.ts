import type { INetworkModule } from '@azure/msal-node';
import { createDenialRecorder } from '../audit/audit-denials.js';
import { resolveCloud } from '../auth/clouds.js';
import { createSignInClient } from '../auth/signin-client.js';
import type { Config } from '../config/schema.js';
import { createKeyLookup } from '../dashboard/signin/id-token.js';
import { createSessionStore } from '../dashboard/signin/session-store.js';
import type { SignInDeps } from '../dashboard/signin/signin-routes.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from '../shared/redis.js';

/** HTTP for MSAL and the JWKS, when the login host's certificate needs a CA of its own. */
export interface SignInNetwork {
  msal: INetworkModule;
  fetchJson: (url: string) => Promise<unknown>;
}

/**
 * The dashboard's Entra sign-in (`dashboard.auth: entra`) from configuration: the confidential
 * client (its login host defaults to `defender.authorityHost`, the cloud's), the tenant's keys,
 * sessions under `redis.prefix`, the group → role map, and refused sign-ins collapsed into
 * counted audit entries over `api.denialWindow` (a group reaching `api.denialAlert` is logged as
 * a warning). Undefined for `dashboard.auth: shared`.
 */
export function signInFromConfig(
  config: Config,
  deps: {
    redis: Redis;
    clock: Clock;
    log: Logger;
    /** HTTP for MSAL and the JWKS; default MSAL's own and `fetch` (tests trust a test CA). */
    network?: SignInNetwork | undefined;
  },
): SignInDeps | undefined {
  const { auth, entra } = config.dashboard;
  if (auth !== 'entra' || !entra.redirectUri) return undefined;
  const client = createSignInClient(
    {
      entra,
      defaultAuthorityHost: resolveCloud(config.defender).authorityHost,
      networkClient: deps.network?.msal,
    },
    deps.log,
  );
  return {
    client,
    keys: createKeyLookup(client.jwksUri, deps.network?.fetchJson, () => deps.clock.now()),
    sessions: createSessionStore(deps.redis, config.redis.prefix, {
      idleMs: entra.idleTimeout,
      absoluteMs: entra.absoluteTimeout,
      clock: deps.clock,
    }),
    roles: { groups: entra.groups, groupOverage: entra.groupOverage },
    redirectUri: entra.redirectUri,
    denials: createDenialRecorder(
      deps.redis,
      config.redis.prefix,
      { windowMs: config.api.denialWindow, alertAt: config.api.denialAlert, source: 'dashboard' },
      (flood) => {
        deps.log.warn({ ...flood }, 'refused dashboard sign-ins reached api.denialAlert');
        return Promise.resolve();
      },
    ),
  };
}
