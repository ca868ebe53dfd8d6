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

/** Follows `@odata.nextLink` like a naive client would, for at most `limit` pages. */
async function listAll(
  sim: Simulator,
  first: string,
  limit: number,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next && pages < limit) {
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
    "startswith(rbacGroupName, 'Serv')",
    "healthStatus eq 'Sleeping'",
    "healthStatus ne 'Sleeping'",
    "rbacGroupId eq '102'",
    "not healthStatus eq 'Active'",
    "startswith(healthStatus, 'Act')",
    "contains(computerDnsName, 'desk')",
    'lastSeen ne 2026-01-01T00:00:00Z',
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

  it.each([
    '$top=0',
    '$top=10001',
    '$top=abc',
    '$skip=-1',
    '$orderby=rbacGroupName',
    '$orderby=machineTags',
    '$orderby=lastSeen sideways',
    '$count=yes',
    '$expand=alerts',
    '$top=5&$top=6',
  ])('refuses the query %s with 400 ODataError', async (query) => {
    const sim = await buildSimulator({ fleet: 3 });
    try {
      expect(errorCode(await get(sim, `/api/machines?${query}`))).toBe('ODataError');
    } finally {
      await sim.close();
    }
  });

  it('caps the answer at $top without a nextLink, and pages on with $skip', async () => {
    const sim = await buildSimulator({ fleet: 250 });
    try {
      const first = await list(sim, '/api/machines', undefined, '$top=100');
      expect(first.value).toHaveLength(100);
      expect(first['@odata.nextLink']).toBeUndefined();
      const last = await list(sim, '/api/machines', undefined, '$top=100&$skip=200');
      expect(last.value.map((v) => v.id)).toEqual(sim.machines.slice(200).map((m) => m.id));
    } finally {
      await sim.close();
    }
  });

  it('links pages without $top by nameless nextLinks, which drop the filter', async () => {
    const sim = await buildSimulator({ fleet: 250, defaultPageSize: 100 });
    try {
      const filter = "healthStatus eq 'Active'";
      const first = await list(sim, '/api/machines', filter);
      expect(first['@odata.nextLink']).toMatch(/\?=healthStatus.*&=100&\$skip=100$/);
      const { ids } = await listAll(sim, first['@odata.nextLink'] ?? '', 3);
      // Unfiltered pages of 100 from $skip=100; past the end the links start over (skip mod 250).
      const all = sim.machines.map((m) => m.id);
      expect(ids).toEqual([...all.slice(100, 250), ...all.slice(50, 150)]);
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

  it('answers an empty machine list with 404, and an empty action list with 200 unless emptyListAs404', async () => {
    const plain = await buildSimulator({ fleet: 3 });
    const strict = await buildSimulator({ fleet: 3, emptyListAs404: true });
    try {
      const r = await get(
        plain,
        `/api/machines?$filter=${encodeURIComponent("osPlatform eq 'Plan9'")}`,
      );
      expect(r.statusCode).toBe(404);
      expect(errorCode(r)).toBe('ResourceNotFound');
      const none = encodeURIComponent("requestor eq 'nobody@example.com'");
      expect(
        (await list(plain, '/api/machineactions', "requestor eq 'nobody@example.com'")).value,
      ).toEqual([]);
      expect(errorCode(await get(strict, `/api/machineactions?$filter=${none}`))).toBe(
        'ResourceNotFound',
      );
    } finally {
      await plain.close();
      await strict.close();
    }
  });
});

describe('listing machine actions', () => {
  it('filters on machineId, type, status, requestor, id and creationDateTimeUtc ge/gt/lt, newest first', async () => {
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
        third.id,
        second.id,
      ]);
      expect(await ids(`creationDateTimeUtc lt ${second.creationDateTimeUtc}`)).toEqual([first.id]);
      expect(await ids(`creationDateTimeUtc gt ${second.creationDateTimeUtc}`)).toEqual([third.id]);
      expect(await ids("type eq 'RunAntiVirusScan' and status eq 'Succeeded'")).toEqual([
        second.id,
        first.id,
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
            `/api/machineactions?$filter=${encodeURIComponent('creationDateTimeUtc eq 2026-01-01T00:00:00Z')}`,
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
