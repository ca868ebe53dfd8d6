import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../../src/auth/token-provider.js';
import { loadConfig } from '../../../src/config/load.js';
import { createGraphClient } from '../../../src/hunting/graph-client.js';
import { HuntingError } from '../../../src/hunting/hunting-error.js';
import { graphUrlHint } from '../../../src/hunting/graph-clouds.js';
import { checkGraph } from '../../../src/ops/doctor/graph-checks.js';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';

const QUERY =
  'DeviceEvents\n| where Timestamp >= datetime(2026-11-23T11:00:00.000Z)\n' +
  '| where ActionType in ("AntivirusScanCompleted", "AntivirusScanCancelled", "AntivirusScanFailed")\n' +
  `| where DeviceId in ("${'a'.repeat(40)}")\n| project Timestamp, DeviceId, ActionType, AdditionalFields`;

const freeGate = {
  acquire: () =>
    Promise.resolve({ settle: () => Promise.resolve(), release: () => Promise.resolve() }),
  throttle: () => Promise.resolve(),
};

function graphAt(url: string, token: string, hint?: string) {
  return createGraphClient({
    graphUrl: url,
    tokens: staticTokenProvider(token),
    gate: freeGate,
    timeoutMs: 10_000,
    throttleDefaultMs: 60_000,
    log: pino({ level: 'silent' }),
    unreachableHint: hint,
  });
}

async function withListening<T>(work: (sim: Simulator, url: string) => Promise<T>): Promise<T> {
  const sim = await buildSimulator({ fleet: 2 });
  try {
    await sim.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = sim.app.server.address() as { port: number };
    return await work(sim, `http://127.0.0.1:${String(port)}`);
  } finally {
    await sim.close();
  }
}

describe('doctor: Graph for verify', () => {
  it('says what it did not check when verify is off', async () => {
    const result = await checkGraph({
      config: loadConfig({ env: {} }),
      graph: undefined,
      now: Date.now,
      reach: () => Promise.reject(new Error('must not be called')),
    });
    expect(result).toMatchObject({ id: 'tenant.graph', status: 'ok' });
    expect(result.summary).toBe(
      'Graph not checked: verify is off (verify.enabled false, no GRAPH_API_URL or ' +
        'GRAPH_ACCESS_TOKEN); `fleetscan verify` would call https://graph.microsoft.com',
    );
  });

  it('fails a Graph host that does not resolve and names GRAPH_API_URL in the fix', async () => {
    const config = loadConfig({ env: { GRAPH_API_URL: 'https://graph.invalid' } });
    const result = await checkGraph({
      config,
      graph: undefined,
      now: Date.now,
      reach: () =>
        Promise.reject(
          Object.assign(new Error('getaddrinfo ENOTFOUND graph.invalid'), { code: 'ENOTFOUND' }),
        ),
    });
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(
      'Graph unreachable at https://graph.invalid: ENOTFOUND getaddrinfo ENOTFOUND graph.invalid',
    );
    expect(result.fix).toContain(
      'Graph is https://graph.invalid, set by hunting.graphUrl / GRAPH_API_URL.',
    );
  });

  it('runs one hunting query against the simulator when verify is configured', async () => {
    await withListening(async (sim, url) => {
      const config = loadConfig({ env: { GRAPH_API_URL: url } });
      const graphToken = sim.issueToken({ resource: 'https://graph.microsoft.com' });
      const answered = await checkGraph({
        config,
        graph: () => graphAt(url, graphToken),
        now: Date.now,
      });
      expect(answered).toMatchObject({ status: 'ok' });
      expect(answered.summary).toBe(`Graph answered a hunting query at ${url}: verify can run`);

      // A Defender token is no Graph token: refused, and the fix names the permission.
      const refused = await checkGraph({
        config,
        graph: () => graphAt(url, sim.issueToken()),
        now: Date.now,
      });
      expect(refused.status).toBe('fail');
      expect(refused.fix).toContain('ThreatHunting.Read.All');
    });
  });
});

describe('verify: a Graph that cannot be reached', () => {
  it('names GRAPH_API_URL and the cloud default in the error, and does not retry a name that does not resolve', async () => {
    const config = loadConfig({ env: {} });
    const hint = graphUrlHint(config, 'https://graph.invalid');
    const error = await graphAt('https://graph.invalid', 'token', hint)
      .runHuntingQuery(QUERY)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HuntingError);
    expect(error).toMatchObject({ status: 0, code: 'NetworkError', retry: 'never' });
    expect((error as Error).message).toMatch(
      /^Graph runHuntingQuery answered 0 NetworkError: getaddrinfo ENOTFOUND graph\.invalid \(Graph is https:\/\/graph\.invalid, the commercial cloud's default; set hunting\.graphUrl or GRAPH_API_URL to change it\. Against the simulator, GRAPH_API_URL must be its URL \(`fleetscan simulate` prints it\)\)$/,
    );
  });
});
