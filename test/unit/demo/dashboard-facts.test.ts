import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatDashboardFacts, formatKeepRunning } from '../../../src/demo/dashboard-facts.js';
import { pickDashboardPort } from '../../../src/demo/dashboard-port.js';
import { DEMO_USER_LIST, DEMO_USERS, demoRedirectUri } from '../../../src/demo/demo-users.js';

const FACTS = {
  url: 'http://127.0.0.1:36449/',
  signInPage: 'https://127.0.0.1:37581',
  caFile: '/tmp/fleetscan-demo-x/simulator-ca.pem',
  users: DEMO_USER_LIST,
  stop: 'Ctrl-C to stop (or SIGTERM)',
};

describe('fleetscan demo --dashboard', () => {
  it('prints the URL, the sign-in page and one user per role, aligned', () => {
    expect(formatDashboardFacts(FACTS).split('\n')).toEqual([
      'Dashboard http://127.0.0.1:36449/ (`fleetscan dashboard --allow-actions`, sign-in with Entra ID on the simulator)',
      "  Open it and press Sign in: the simulator's sign-in page at https://127.0.0.1:37581 lists these test users",
      "  (its certificate is self-signed: accept the browser's warning, or trust /tmp/fleetscan-demo-x/simulator-ca.pem)",
      '    viewer    vera@contoso.test  (Vera Viewer)',
      '    operator  otto@contoso.test  (Otto Operator)',
      '    admin     ada@contoso.test  (Ada Admin)',
      '',
    ]);
    expect(formatKeepRunning(FACTS)).toBe(
      'Dashboard http://127.0.0.1:36449/ keeps running with Redis, the simulator and the workers: Ctrl-C to stop (or SIGTERM)\n',
    );
  });

  it('gives each simulator user the app role of their dashboard role', () => {
    expect(DEMO_USERS.map((u) => [u.username, u.appRoles])).toEqual([
      ['vera@contoso.test', ['FleetScan.Viewer']],
      ['otto@contoso.test', ['FleetScan.Operator']],
      ['ada@contoso.test', ['FleetScan.Admin']],
    ]);
    expect(demoRedirectUri(3000)).toBe('http://127.0.0.1:3000/signin/callback');
  });

  it('picks a free port, keeps a free one asked for, and refuses a taken one', async () => {
    const free = await pickDashboardPort(undefined);
    expect('port' in free && free.port > 0).toBe(true);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    try {
      expect(await pickDashboardPort(taken)).toEqual({ refused: 'EADDRINUSE' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await pickDashboardPort(taken)).toEqual({ port: taken });
  });
});
