import type { Cloud, Config } from '../config/schema.js';

/**
 * Microsoft Graph per cloud: GCC tenants use the worldwide Graph; GCC High and DoD have their
 * own hosts (Microsoft Graph "national cloud deployments").
 */
export const GRAPH_HOSTS: Readonly<Record<Cloud, string>> = {
  commercial: 'https://graph.microsoft.com',
  gcc: 'https://graph.microsoft.com',
  'gcc-high': 'https://graph.microsoft.us',
  dod: 'https://dod-graph.microsoft.us',
};

export interface GraphEndpoint {
  graphUrl: string;
  scope: string;
}

/** Graph base URL and token scope for a cloud, with the configured overrides. */
export function resolveGraph(settings: {
  cloud: Cloud;
  graphUrl?: string | undefined;
  tokenScope?: string | undefined;
}): GraphEndpoint {
  const host = GRAPH_HOSTS[settings.cloud];
  return {
    graphUrl: (settings.graphUrl ?? host).replace(/\/+$/, ''),
    scope: settings.tokenScope ?? `${host}/.default`,
  };
}

/**
 * Where the Graph URL came from, for messages about not reaching it: against the simulator the
 * default (the real Graph) is the usual mistake.
 */
export function graphUrlHint(config: Config, graphUrl: string): string {
  const origin = config.hunting.graphUrl
    ? 'set by hunting.graphUrl / GRAPH_API_URL'
    : `the ${config.defender.cloud} cloud's default; set hunting.graphUrl or GRAPH_API_URL to change it`;
  return (
    `Graph is ${graphUrl}, ${origin}. Against the simulator, GRAPH_API_URL must be its URL ` +
    '(`fleetscan simulate` prints it)'
  );
}
