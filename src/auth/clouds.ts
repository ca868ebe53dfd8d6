import type { Cloud, Config } from '../config/schema.js';

/** Where one cloud's API and token endpoint are, and which scope its tokens need. */
export interface CloudEndpoints {
  cloud: Cloud;
  /** API base without a trailing slash, e.g. `https://api.security.microsoft.com`. */
  apiUrl: string;
  /** Entra login host without a trailing slash, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** `${authorityHost}/${tenantId}`; undefined without a tenant (static-token runs). */
  authority: string | undefined;
  scope: string;
  /** True when the login host came from configuration (a simulator or proxy), not the table. */
  customAuthorityHost: boolean;
}

interface CloudDefaults {
  apiUrl: string;
  authorityHost: string;
  scope: string;
}

/**
 * The clouds table of mde-api.md. The government scopes are not documented; these are the
 * WindowsDefenderATP application id URIs other integrations use, and `MDE_TOKEN_SCOPE` overrides them.
 */
export const CLOUD_DEFAULTS: Readonly<Record<Cloud, CloudDefaults>> = {
  commercial: {
    apiUrl: 'https://api.security.microsoft.com',
    authorityHost: 'https://login.microsoftonline.com',
    scope: 'https://api.securitycenter.microsoft.com/.default',
  },
  gcc: {
    apiUrl: 'https://api-gcc.securitycenter.microsoft.us',
    authorityHost: 'https://login.microsoftonline.com',
    scope: 'https://securitycenter.onmicrosoft.com/windowsatpservice/.default',
  },
  'gcc-high': {
    apiUrl: 'https://api-gov.securitycenter.microsoft.us',
    authorityHost: 'https://login.microsoftonline.us',
    scope: 'https://securitycenter.onmicrosoft.us/windowsatpservice/.default',
  },
  dod: {
    apiUrl: 'https://api-gov.securitycenter.microsoft.us',
    authorityHost: 'https://login.microsoftonline.us',
    scope: 'https://securitycenter.onmicrosoft.us/windowsatpservice/.default',
  },
};

export type CloudSettings = Pick<
  Config['defender'],
  'cloud' | 'apiUrl' | 'authorityHost' | 'tokenScope' | 'tenantId'
>;

/** Resolves API base, authority and scope for the configured cloud, honouring the overrides. */
export function resolveCloud(settings: CloudSettings): CloudEndpoints {
  const defaults = CLOUD_DEFAULTS[settings.cloud];
  const authorityHost = trimSlashes(settings.authorityHost ?? defaults.authorityHost);
  return {
    cloud: settings.cloud,
    apiUrl: trimSlashes(settings.apiUrl ?? defaults.apiUrl),
    authorityHost,
    authority: settings.tenantId
      ? `${authorityHost}/${encodeURIComponent(settings.tenantId)}`
      : undefined,
    scope: settings.tokenScope ?? defaults.scope,
    customAuthorityHost: settings.authorityHost !== undefined,
  };
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}
