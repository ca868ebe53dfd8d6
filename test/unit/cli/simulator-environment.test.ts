import { describe, expect, it } from 'vitest';
import { simulatorEnvironment } from '../../../src/cli/commands/simulator-environment.js';
import { scanEvidenceQuery } from '../../../src/hunting/scan-evidence-query.js';
import { buildSimulator } from '../../../src/simulator/build-simulator.js';

describe('the environment `fleetscan simulate` prints', () => {
  it('points verify at the simulator: GRAPH_API_URL, and over plain HTTP a Graph token it accepts', async () => {
    const sim = await buildSimulator({ fleet: 2 });
    try {
      const url = 'http://127.0.0.1:4010';
      const { env } = simulatorEnvironment({
        url,
        tls: false,
        credentials: sim.credentials,
        issueToken: () => sim.issueToken(),
        issueGraphToken: () => sim.issueToken({ resource: 'https://graph.microsoft.com' }),
        timeScale: 1,
      });
      const vars = new Map(
        env.map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]),
      );
      expect(vars.get('MDE_API_URL')).toBe(url);
      expect(vars.get('GRAPH_API_URL')).toBe(url);
      const hunt = await sim.app.inject({
        method: 'POST',
        url: '/v1.0/security/runHuntingQuery',
        headers: { authorization: `Bearer ${vars.get('GRAPH_ACCESS_TOKEN') ?? ''}` },
        payload: { Query: scanEvidenceQuery(Date.now() - 60_000, ['a'.repeat(40)]) },
      });
      expect(hunt.statusCode, hunt.body).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('over HTTPS gives GRAPH_API_URL and no ready Graph token (client credentials sign in)', () => {
    const { env } = simulatorEnvironment({
      url: 'https://sim:4010',
      tls: true,
      credentials: { tenantId: 't', clientId: 'c', clientSecret: 's' },
      issueToken: () => 'unused',
      issueGraphToken: () => 'unused',
      timeScale: 1,
    });
    expect(env).toContain('GRAPH_API_URL=https://sim:4010');
    expect(env.some((line) => line.startsWith('GRAPH_ACCESS_TOKEN='))).toBe(false);
  });
});
