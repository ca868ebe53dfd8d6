import { describe, expect, it } from 'vitest';
import { DefenderError } from '../../../src/defender/errors.js';
import type { MachineAction } from '../../../src/defender/machine-action.js';
import { apiError, withApi } from './api-server.js';
import { fakeGate, fakeTokens, testClient } from './fakes.js';

const ACTION_ID = '7f3a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c';
const machine = (n: number) => ({
  id: n.toString(16).padStart(40, '0'),
  healthStatus: 'Active',
  extra: n,
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Serves `total` machines in pages of $top, linking pages with an absolute @odata.nextLink. */
function pagedMachines(total: number, prefix = '') {
  return (app: import('fastify').FastifyInstance) =>
    app.get(`${prefix}/api/machines`, (req, reply) => {
      const query = req.query as Record<string, string | undefined>;
      const top = Number(query['$top'] ?? 10_000);
      const skip = Number(query['$skip'] ?? 0);
      const value = Array.from({ length: Math.max(0, Math.min(top, total - skip)) }, (_, i) =>
        machine(skip + i),
      );
      const next =
        skip + top < total
          ? `http://${req.host}${prefix}/api/machines?$top=${top}&$skip=${skip + top}`
          : undefined;
      return reply.send({ value, ...(next ? { '@odata.nextLink': next } : {}) });
    });
}

describe('list calls', () => {
  it('pages with $top and $skip until a short page, one slot per page, keeping every field', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(pagedMachines(5), async ({ url, seen }) => {
      const api = testClient(url, { gate, tokens });
      const machines = await collect(api.listMachines({ healthStatus: 'Active' }));
      api.close();
      expect(machines.map((m) => m['extra'])).toEqual([0, 1, 2, 3, 4]);
      expect(seen.map((request) => request.url)).toEqual([
        `/api/machines?$filter=healthStatus%20eq%20%27Active%27&$top=2`,
        `/api/machines?$filter=healthStatus%20eq%20%27Active%27&$top=2&$skip=2`,
        `/api/machines?$filter=healthStatus%20eq%20%27Active%27&$top=2&$skip=4`,
      ]);
    });
    expect(events.filter((event) => event.type === 'acquire')).toHaveLength(3);
    expect(events.filter((event) => event.type === 'settle')).toHaveLength(3);
    expect(events.every((event) => event.type !== 'acquire' || event.family === 'machines')).toBe(
      true,
    );
  });

  it('works under an API base with a path', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(pagedMachines(3, '/mde'), async ({ url }) => {
      const api = testClient(`${url}/mde/`, { gate, tokens });
      await expect(collect(api.listMachines())).resolves.toHaveLength(3);
      api.close();
    });
  });

  it('treats a 404 on a list as an empty result', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.get('/api/machineactions', (_req, reply) => reply.code(404).send(apiError('NotFound'))),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens });
        await expect(
          collect(api.listMachineActions({ type: 'RunAntiVirusScan' })),
        ).resolves.toEqual([]);
        api.close();
      },
    );
  });

  it('retries a list page after a 5xx on a new slot, and normalises lastUpdateTimeUtc', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    let failures = 1;
    await withApi(
      (app) =>
        app.get('/api/machineactions', (_req, reply) => {
          if (failures-- > 0) return reply.code(503).send(apiError('ServiceUnavailable'));
          return reply.send({
            value: [
              { id: ACTION_ID, status: 'Succeeded', lastUpdateTimeUtc: '2026-11-23T11:00:00Z' },
            ],
          });
        }),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        const actions: MachineAction[] = await collect(
          api.listMachineActions("status eq 'Succeeded'"),
        );
        api.close();
        expect(actions).toEqual([
          {
            id: ACTION_ID,
            status: 'Succeeded',
            lastUpdateTimeUtc: '2026-11-23T11:00:00Z',
            lastUpdateDateTimeUtc: '2026-11-23T11:00:00Z',
          },
        ]);
        expect(seen).toHaveLength(2);
        expect(seen[0]?.url).toBe(
          `/api/machineactions?$filter=status%20eq%20%27Succeeded%27&$top=2`,
        );
      },
    );
    expect(events.filter((event) => event.type === 'acquire')).toHaveLength(2);
  });

  it('never follows a nextLink, not even one to another host', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.get('/api/machines', (req, reply) => {
          const skip = Number((req.query as Record<string, string>)['$skip'] ?? 0);
          return reply.send({
            value: skip === 0 ? [machine(1)] : [],
            '@odata.nextLink': 'http://evil.example/api/machines?$skip=1',
          });
        }),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        const machines = await collect(api.listMachines());
        api.close();
        expect(machines.map((m) => m.id)).toEqual([machine(1).id]);
        expect(seen.map((request) => request.url)).toEqual([
          '/api/machines?$top=2',
          '/api/machines?$top=2&$skip=1',
        ]);
      },
    );
  });

  it('stops with an error when $skip is not honoured, instead of paging forever', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.get('/api/machines', (_req, reply) => reply.send({ value: [machine(1), machine(2)] })),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        await expect(collect(api.listMachines())).rejects.toMatchObject({
          code: 'InvalidResponse',
        });
        api.close();
        expect(seen).toHaveLength(2);
      },
    );
  });
});

describe('single actions', () => {
  it('gets one action, and says never for an unknown one', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.get('/api/machineactions/:id', (req, reply) => {
          const { id } = req.params as { id: string };
          if (id === ACTION_ID) return reply.send({ id, status: 'InProgress' });
          return reply.code(404).send(apiError('ResourceNotFound'));
        }),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        await expect(api.getMachineAction(ACTION_ID.toUpperCase())).resolves.toMatchObject({
          id: ACTION_ID,
        });
        const error: unknown = await api
          .getMachineAction('00000000-0000-4000-8000-000000000000')
          .catch((e: unknown) => e);
        await expect(api.getMachineAction('../machines')).rejects.toThrow(/MachineAction id/);
        api.close();
        expect(error).toBeInstanceOf(DefenderError);
        expect(error).toMatchObject({ status: 404, code: 'ResourceNotFound', retry: 'never' });
        expect(seen).toHaveLength(2);
      },
    );
    expect(
      events
        .filter((event) => event.type === 'acquire')
        .map((event) => 'family' in event && event.family),
    ).toEqual(['machineActions', 'machineActions']);
  });

  it('cancels an action with a comment through the cancel family', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machineactions/:id/cancel', (req, reply) =>
          reply.send({ id: (req.params as { id: string }).id, status: 'Cancelled' }),
        ),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        await expect(
          api.cancelMachineAction(ACTION_ID, 'stop [fleetscan:c-x]'),
        ).resolves.toMatchObject({ status: 'Cancelled' });
        api.close();
        expect(seen[0]).toMatchObject({
          method: 'POST',
          url: `/api/machineactions/${ACTION_ID}/cancel`,
          body: { Comment: 'stop [fleetscan:c-x]' },
        });
      },
    );
    expect(events[0]).toEqual({ type: 'acquire', family: 'cancel', slot: 1 });
  });
});
