import { describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import { errorCode, fakeClock, get, healthyIds, scan } from './sim-kit.js';

interface Page {
  value: { id: string; [k: string]: unknown }[];
  '@odata.nextLink'?: string;
}

async function list(sim: Simulator, path: string, filter?: string, extra = ''): Promise<Page> {
  const query =
    filter === undefined
      ? extra
      : `$filter=${encodeURIComponent(filter)}${extra ? `&${extra}` : ''}`;
  const r = await get(sim, `${path}${query ? `?${query}` : ''}`);
  expect(r.statusCode).toBe(200);
  return r.json<Page>();
}

/** Follows `@odata.nextLink` like a client would, collecting every page. */
async function listAll(sim: Simulator, first: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next) {
    const url = new URL(next, 'http://localhost');
    const r = await get(sim, `${url.pathname}${url.search}`);
    const page = r.json<Page>();
    ids.push(...page.value.map((v) => v.id));
    next = page['@odata.nextLink'];
    pages++;
  }
  return { ids, pages };
}

describe('listing machines', () => {
  it('filters on health, onboarding, platform, group, tags and id, combined with and/or', async () => {
    const sim = await buildSimulator({ fleet: 300, seed: 3 });
    try {
      const m = sim.machines;
      const expectIds = async (filter: string, predicate: (x: (typeof m)[number]) => boolean) => {
        const ids = (await list(sim, '/api/machines', filter)).value.map((v) => v.id);
        expect(ids).toEqual(m.filter(predicate).map((x) => x.id));
      };
      await expectIds("healthStatus eq 'Inactive'", (x) => x.healthStatus === 'Inactive');
      await expectIds(
        "onboardingStatus eq 'Onboarded' and osPlatform eq 'Windows11'",
        (x) => x.osPlatform === 'Windows11',
      );
      await expectIds('rbacGroupId eq 102', (x) => x.rbacGroupId === 102);
      await expectIds("machineTags/any(tag: tag eq 'VIP')", (x) => x.machineTags.includes('VIP'));
      await expectIds(
        "(osPlatform eq 'iOS' or osPlatform eq 'Android') and healthStatus eq 'Active'",
        (x) =>
          (x.osPlatform === 'iOS' || x.osPlatform === 'Android') && x.healthStatus === 'Active',
      );
      await expectIds(`id eq '${m[5]!.id}'`, (x) => x.id === m[5]!.id);
      expect(m.some((x) => x.healthStatus === 'Inactive')).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it('never shows the hidden simulation traits', async () => {
    const sim = await buildSimulator({ fleet: 3 });
    try {
      const page = await list(sim, '/api/machines');
      expect(page.value[0]).not.toHaveProperty('simulation');
      expect(page.value[0]).toHaveProperty('healthStatus');
    } finally {
      await sim.close();
    }
  });

  it.each([
    "rbacGroupName eq 'Servers'",
    "healthstatus eq 'Active'",
    "healthStatus eq 'Sleeping'",
    "healthStatus ne 'Active'",
    "rbacGroupId eq '102'",
    "not healthStatus eq 'Active'",
    "startswith(computerDnsName, 'desk')",
    "healthStatus eq 'Active' and",
    "machineTags/all(tag: tag eq 'VIP')",
    "healthStatus EQ 'Active'",
  ])('refuses the unsupported filter %s with 400 ODataError', async (filter) => {
    const sim = await buildSimulator({ fleet: 3 });
    try {
      const r = await get(sim, `/api/machines?$filter=${encodeURIComponent(filter)}`);
      expect(r.statusCode).toBe(400);
      expect(errorCode(r)).toBe('ODataError');
    } finally {
      await sim.close();
    }
  });

  it.each(['$top=0', '$top=10001', '$top=abc', '$skip=-1', '$orderby=id', '$top=5&$top=6'])(
    'refuses the query %s with 400 ODataError',
    async (query) => {
      const sim = await buildSimulator({ fleet: 3 });
      try {
        expect(errorCode(await get(sim, `/api/machines?${query}`))).toBe('ODataError');
      } finally {
        await sim.close();
      }
    },
  );

  it('pages with $top and @odata.nextLink until every device was seen once', async () => {
    const sim = await buildSimulator({ fleet: 250 });
    try {
      const { ids, pages } = await listAll(sim, '/api/machines?$top=100');
      expect(pages).toBe(3);
      expect(ids).toEqual(sim.machines.map((m) => m.id));
      const filtered = await listAll(
        sim,
        `/api/machines?$filter=${encodeURIComponent("healthStatus eq 'Active'")}&$top=50`,
      );
      expect(filtered.ids).toEqual(
        sim.machines.filter((m) => m.healthStatus === 'Active').map((m) => m.id),
      );
    } finally {
      await sim.close();
    }
  });

  it('caps a page at the default page size when no $top is given', async () => {
    const sim = await buildSimulator({ fleet: 30, defaultPageSize: 20 });
    try {
      const page = await list(sim, '/api/machines');
      expect(page.value).toHaveLength(20);
      expect(page['@odata.nextLink']).toMatch(/\$skip=20/);
    } finally {
      await sim.close();
    }
  });

  it('answers an empty list with 200 and no values, or 404 when emptyListAs404 is set', async () => {
    const filter = encodeURIComponent("osPlatform eq 'Plan9'");
    const plain = await buildSimulator({ fleet: 3 });
    const strict = await buildSimulator({ fleet: 3, emptyListAs404: true });
    try {
      expect((await list(plain, '/api/machines', "osPlatform eq 'Plan9'")).value).toEqual([]);
      const r = await get(strict, `/api/machines?$filter=${filter}`);
      expect(r.statusCode).toBe(404);
      expect(errorCode(r)).toBe('ResourceNotFound');
    } finally {
      await plain.close();
      await strict.close();
    }
  });
});

describe('listing machine actions', () => {
  it('filters on machineId, type, status, requestor, id and creationDateTimeUtc ge/gt', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 20,
      fleetMix: { busy: 0, offline: 0, inactive: 0, duplicate: 0, unsupportedOs: 0 },
      now: clock.now,
    });
    try {
      const [a, b, c] = healthyIds(sim);
      const first = (await scan(sim, a!)).json<{ id: string; creationDateTimeUtc: string }>();
      clock.advance(1_000);
      const second = (await scan(sim, b!)).json<{ id: string; creationDateTimeUtc: string }>();
      clock.advance(60_000);
      const third = (await scan(sim, c!)).json<{ id: string }>();
      const ids = async (filter: string) =>
        (await list(sim, '/api/machineactions', filter)).value.map((v) => v.id);
      expect(await ids(`machineId eq '${a!}'`)).toEqual([first.id]);
      expect(await ids(`creationDateTimeUtc ge ${second.creationDateTimeUtc}`)).toEqual([
        second.id,
        third.id,
      ]);
      expect(await ids(`creationDateTimeUtc gt ${second.creationDateTimeUtc}`)).toEqual([third.id]);
      expect(await ids("type eq 'RunAntiVirusScan' and status eq 'Succeeded'")).toEqual([
        first.id,
        second.id,
      ]);
      expect(await ids("status eq 'Pending'")).toEqual([third.id]);
      expect(
        await ids(`requestor eq '${sim.credentials.clientId}' and id eq '${second.id}'`),
      ).toEqual([second.id]);
      expect(
        errorCode(
          await get(
            sim,
            `/api/machineactions?$filter=${encodeURIComponent("status eq 'Canceled'")}`,
          ),
        ),
      ).toBe('ODataError');
      expect(
        errorCode(
          await get(
            sim,
            `/api/machineactions?$filter=${encodeURIComponent('creationDateTimeUtc le 2026-01-01T00:00:00Z')}`,
          ),
        ),
      ).toBe('ODataError');
      expect(
        errorCode(
          await get(
            sim,
            `/api/machineactions?$filter=${encodeURIComponent("requestorComment eq 'x'")}`,
          ),
        ),
      ).toBe('ODataError');
    } finally {
      await sim.close();
    }
  });
});
