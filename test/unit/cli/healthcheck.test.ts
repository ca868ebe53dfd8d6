import { describe, expect, it } from 'vitest';
import { checkHealth } from '../../../src/cli/commands/healthcheck.js';

describe('fleetscan healthcheck', () => {
  it('is healthy when a worker of this host beats, whatever the dashboard says', async () => {
    const result = await checkHealth({
      workerAlive: () => Promise.resolve(true),
      healthz: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    expect(result.healthy).toBe(true);
    expect(result.reason).toMatch(/worker on .* is beating/);
  });

  it('is healthy when the dashboard answers /healthz 200 and no worker runs here', async () => {
    const result = await checkHealth({
      workerAlive: () => Promise.resolve(false),
      healthz: () => Promise.resolve(200),
    });
    expect(result).toEqual({ healthy: true, reason: 'the dashboard answers /healthz' });
  });

  it('is unhealthy with the reason when neither answers, or /healthz fails', async () => {
    const down = await checkHealth({
      workerAlive: () => Promise.reject(new Error('Redis down')),
      healthz: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    expect(down.healthy).toBe(false);
    expect(down.reason).toMatch(/no worker on .* in the last 15 s and nothing answers \/healthz/);
    const failing = await checkHealth({
      workerAlive: () => Promise.resolve(false),
      healthz: () => Promise.resolve(503),
    });
    expect(failing).toMatchObject({ healthy: false });
    expect(failing.reason).toContain('/healthz answered 503');
  });
});
