import { connect } from 'node:net';
import type { Config } from '../../config/schema.js';
import type { GraphClient } from '../../hunting/graph-client.js';
import { resolveGraph } from '../../hunting/graph-clouds.js';
import { HuntingError } from '../../hunting/hunting-error.js';
import { graphUrlHint } from '../../hunting/graph-clouds.js';
import { scanEvidenceQuery } from '../../hunting/scan-evidence-query.js';
import { fail, ok, warn, type CheckResult } from './check-result.js';

export interface GraphCheckDeps {
  /** The tenant's configuration (its cloud, Graph URL, credentials). */
  config: Config;
  /** The Graph client of that configuration; absent when Redis (its hunting budget) is not. */
  graph: (() => GraphClient) | undefined;
  now: () => number;
  /** Opens and closes a TCP connection, or throws why not (node:net by default). */
  reach?: (host: string, port: number, timeoutMs: number) => Promise<void>;
}

const ID = 'tenant.graph';
const REACH_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 30_000;
// A device id no device has: the query is real KQL, reads one hour, returns nothing.
const NO_DEVICE = '0'.repeat(40);
const GRAPH_PERMISSION_FIX =
  'add the Microsoft Graph application permission ThreatHunting.Read.All in Entra and grant admin consent.';

/** Whether `verify` is set up here: automatic verify, or a Graph URL or token of its own. */
export function verifyConfigured(config: Config): boolean {
  return (
    config.verify.enabled ||
    config.hunting.graphUrl !== undefined ||
    config.hunting.accessToken !== undefined
  );
}

function tcpReach(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`no TCP connection within ${String(timeoutMs / 1000)} s`));
    });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

/**
 * Graph for `verify`: when it is configured, that the host resolves and accepts a connection,
 * that a Graph token can be had and that one small hunting query (one slot of the hunting budget)
 * is answered; when it is not, says so and what was not checked.
 */
export async function checkGraph(deps: GraphCheckDeps): Promise<CheckResult> {
  const { config } = deps;
  const graph = resolveGraph({
    cloud: config.defender.cloud,
    graphUrl: config.hunting.graphUrl,
    tokenScope: config.hunting.tokenScope,
  });
  const hint = graphUrlHint(config, graph.graphUrl);
  if (!verifyConfigured(config)) {
    return ok(
      'tenant',
      ID,
      `Graph not checked: verify is off (verify.enabled false, no GRAPH_API_URL or GRAPH_ACCESS_TOKEN); ` +
        `\`fleetscan verify\` would call ${graph.graphUrl}`,
    );
  }
  const url = new URL(graph.graphUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  try {
    await (deps.reach ?? tcpReach)(url.hostname, port, REACH_TIMEOUT_MS);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return fail(
      'tenant',
      ID,
      `Graph unreachable at ${graph.graphUrl}: ${typeof code === 'string' ? `${code} ` : ''}${(error as Error).message}`,
      `${hint}.`,
    );
  }
  if (!deps.graph) {
    return warn(
      'tenant',
      ID,
      `Graph reachable at ${graph.graphUrl} (TCP); no query tried: the hunting budget lives in Redis, which is unreachable`,
      'Fix Redis first (see above), then run doctor again.',
    );
  }
  const client = deps.graph();
  try {
    await client.runHuntingQuery(scanEvidenceQuery(deps.now() - 3_600_000, [NO_DEVICE]), {
      timespan: 'PT1H',
      signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    });
    return ok('tenant', ID, `Graph answered a hunting query at ${graph.graphUrl}: verify can run`);
  } catch (error) {
    return judgeGraphFailure(error, graph.graphUrl, hint);
  } finally {
    client.close();
  }
}

function judgeGraphFailure(error: unknown, graphUrl: string, hint: string): CheckResult {
  if (!(error instanceof HuntingError)) {
    return fail(
      'tenant',
      ID,
      `no Graph token for ${graphUrl}: ${(error as Error).message}`,
      `A ready token (GRAPH_ACCESS_TOKEN) must be a Graph token with ThreatHunting.Read.All; with client credentials, ${GRAPH_PERMISSION_FIX}`,
    );
  }
  if (error.status === 401 || error.status === 403) {
    return fail(
      'tenant',
      ID,
      `Graph refused the hunting query (${error.message})`,
      `To the app registration, ${GRAPH_PERMISSION_FIX} A ready token (GRAPH_ACCESS_TOKEN) must be for Microsoft Graph.`,
    );
  }
  if (error.status === 429) {
    return warn(
      'tenant',
      ID,
      `Graph answered at ${graphUrl} but throttled the query (429): the hunting budget is spent now`,
      'Nothing to fix: verify waits for the budget. Run doctor later to see a query answered.',
    );
  }
  return error.status === 0
    ? fail('tenant', ID, `Graph unreachable: ${error.message}`, `${hint}; or check the network.`)
    : warn(
        'tenant',
        ID,
        `Graph answered the hunting query with ${error.message}`,
        'Run `fleetscan verify` with LOG_LEVEL=debug for details.',
      );
}
