import { describe, expect, it } from 'vitest';
import {
  checkEvidenceTarget,
  EvidenceError,
  openEvidenceSource,
  type EvidenceSourceDeps,
} from '../../../src/control/evidence-sources.js';
import { HuntingError } from '../../../src/hunting/hunting-error.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ DeviceId: id(i + 1) }));

function graph(answers: (() => unknown)[]): EvidenceSourceDeps['graph'] & { calls: number } {
  const next = () => {
    const answer = answers.shift();
    if (!answer) throw new Error('no more answers');
    return Promise.resolve(answer());
  };
  const fake = {
    calls: 0,
    runHuntingQuery: () => {
      fake.calls += 1;
      return next() as ReturnType<EvidenceSourceDeps['graph']['runHuntingQuery']>;
    },
    getIncident: () => {
      fake.calls += 1;
      return next() as ReturnType<EvidenceSourceDeps['graph']['getIncident']>;
    },
    getAlert: () => {
      fake.calls += 1;
      return next() as ReturnType<EvidenceSourceDeps['graph']['getAlert']>;
    },
  };
  return fake;
}

async function ids(deps: EvidenceSourceDeps, target: Parameters<typeof openEvidenceSource>[1]) {
  const source = await openEvidenceSource(deps, target);
  const out: string[] = [];
  for await (const chunk of source.chunks) out.push(...chunk);
  return { source, ids: out };
}

const sleep = () => Promise.resolve();
const hunting = { kind: 'hunting', query: 'DeviceFileEvents | distinct DeviceId' } as const;
const schema = [{ name: 'DeviceId' }];

describe('devices from evidence', () => {
  it('asks again after a 429 (the gate waited) and after a transient failure', async () => {
    const fake = graph([
      () => {
        throw new HuntingError({ status: 429, code: 'TooManyRequests', retry: 'throttled' });
      },
      () => {
        throw new HuntingError({ status: 503, code: 'ServiceUnavailable', retry: 'backoff' });
      },
      () => ({ schema, results: rows(3) }),
    ]);
    const { source, ids: found } = await ids({ graph: fake, sleep }, hunting);
    expect(found).toHaveLength(3);
    expect(source.description).toBe(`hunting[3 rows]:${hunting.query}`);
    expect(fake.calls).toBe(3);
  });

  it('gives up after the last transient failure, saying nothing was created', async () => {
    const fail = () => {
      throw new HuntingError({ status: 503, code: 'ServiceUnavailable', retry: 'backoff' });
    };
    const fake = graph([fail, fail, fail]);
    await expect(openEvidenceSource({ graph: fake, sleep }, hunting)).rejects.toThrow(
      /The hunting query could not be read: Graph answered 503 ServiceUnavailable\. Nothing was created\./,
    );
    expect(fake.calls).toBe(3);
  });

  it('refuses an answer at the row limit: it may have been cut', async () => {
    const fake = graph([() => ({ schema, results: rows(10) })]);
    await expect(openEvidenceSource({ graph: fake, maxRows: 10 }, hunting)).rejects.toThrow(
      /returned 10 rows, advanced hunting's limit.*distinct DeviceId/,
    );
  });

  it('refuses an incident whose alerts name no onboarded device', async () => {
    const fake = graph([
      () => ({
        id: '7',
        alerts: [
          {
            evidence: [
              { '@odata.type': '#microsoft.graph.security.deviceEvidence', mdeDeviceId: null },
            ],
          },
        ],
      }),
    ]);
    await expect(
      openEvidenceSource({ graph: fake }, { kind: 'incident', id: '7' }),
    ).rejects.toThrow(
      'Incident 7 names no device to scan (1 alerts; skipped: 1 not-onboarded). Nothing was created.',
    );
  });

  it.each([
    [{ kind: 'incident', id: '47a' }, /--x must be an incident's number/],
    [{ kind: 'alert', id: 'da1/../x' }, /--x must be an alert id/],
    [{ kind: 'hunting', query: '  ' }, /--x must be a KQL query/],
    [{ kind: 'hunting', query: 'x'.repeat(40_001) }, /at most 40000/],
  ] as const)('refuses %j before any call', (target, message) => {
    expect(() => checkEvidenceTarget(target, '--x')).toThrow(EvidenceError);
    expect(() => checkEvidenceTarget(target, '--x')).toThrow(message);
  });
});
