import type { LightMyRequestResponse } from 'fastify';
import type { Simulator } from '../../../src/simulator/build-simulator.js';

/** A clock the test moves by hand: the simulator reads arrival times from it. */
export function fakeClock(startIso = '2026-11-23T12:00:00.000Z'): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = Date.parse(startIso);
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export function auth(sim: Simulator): Record<string, string> {
  return { authorization: `Bearer ${sim.issueToken()}` };
}

export async function scan(
  sim: Simulator,
  machineId: string,
  body: unknown = { Comment: 'test scan', ScanType: 'Quick' },
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return sim.app.inject({
    method: 'POST',
    url: `/api/machines/${machineId}/runAntiVirusScan`,
    headers: { ...auth(sim), 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function get(sim: Simulator, url: string): Promise<LightMyRequestResponse> {
  return sim.app.inject({ method: 'GET', url, headers: auth(sim) });
}

export function errorCode(response: LightMyRequestResponse): string | undefined {
  const body = response.json<{ error?: { code?: string } }>();
  return body.error?.code;
}

/** Ids of devices that accept a scan right away (supported, reachable, not busy). */
export function healthyIds(sim: Simulator): string[] {
  return sim.machines
    .filter(
      (m) =>
        !m.simulation.offline &&
        !m.simulation.busyWithOtherScan &&
        ['Windows10', 'Windows11'].includes(m.osPlatform),
    )
    .map((m) => m.id);
}
