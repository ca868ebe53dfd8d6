import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RateWindow } from '../../src/config/duration.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import {
  benchMachines,
  latencyFor,
  machineIds,
  startSimulator,
  type RunningSimulator,
} from './sim-harness.js';

/** What can go wrong with one tenant in the fault run (issue 10). */
export type TenantFault = 'none' | '429-storm' | 'revoked-secret';

/** One tenant of the bench: its own app + tenant in its own simulator. */
export interface BenchTenant {
  name: string;
  cloud: 'commercial' | 'gcc-high';
  devices: number;
  ids: string[];
  fault: TenantFault;
  sim: RunningSimulator;
}

export interface TenantFleetSpec {
  /** How many tenants, and the campaign size of the first and last (spread evenly between). */
  tenants: number;
  smallest: number;
  largest: number;
  /** The windows every tenant's app has, API time. */
  windows: readonly RateWindow[];
  factor: number;
  /** The last two tenants are the fault tenants (issue 10); false: every tenant is plain. */
  faultTenants?: boolean;
}

/** The secret a revoked tenant's simulator accepts until it is rotated. */
const FIRST_SECRET = 'bench-tenant-secret';
/** Token lifetime (real s) of the revoked-secret tenant, so the revocation bites within seconds. */
const SHORT_TOKEN_SEC = 2;
/** Device ids of tenant i start at i × this (no two tenants share a device). */
const ID_STRIDE = 100_000;

const guid = (kind: number, i: number) =>
  `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/**
 * Campaign sizes spread evenly from `smallest` to `largest`, tenant 0 the smallest. The fault
 * tenants are the last two (mid-size neighbours stay in the comparison).
 */
export function tenantSizes(spec: Pick<TenantFleetSpec, 'tenants' | 'smallest' | 'largest'>) {
  const { tenants, smallest, largest } = spec;
  return Array.from({ length: tenants }, (_, i) =>
    tenants === 1 ? smallest : Math.round(smallest + ((largest - smallest) * i) / (tenants - 1)),
  );
}

/**
 * Starts one simulator per tenant (own tenant id and app id, so own budget): commercial and
 * gcc-high alternate; with `faults`, the last tenant meets a 429 storm (another consumer
 * spending far above the cap) and the one before it has its secret revoked when `revoke()` is
 * called (only that tenant signs in with a client secret, over TLS as Entra requires).
 */
export async function startTenantFleet(
  spec: TenantFleetSpec,
  faults: boolean,
): Promise<{ tenants: BenchTenant[]; certificatePem: string }> {
  const certificate = await createSelfSignedCertificate();
  const sizes = tenantSizes(spec);
  const tenants: BenchTenant[] = [];
  try {
    for (let i = 0; i < spec.tenants; i++) {
      const fault: TenantFault =
        spec.faultTenants === false
          ? 'none'
          : i === spec.tenants - 1
            ? '429-storm'
            : i === spec.tenants - 2
              ? 'revoked-secret'
              : 'none';
      const ids = machineIds(sizes[i] ?? spec.smallest, (i + 1) * ID_STRIDE);
      const firstCap = spec.windows[0]?.cap ?? 1;
      const sim = await startSimulator({
        machines: benchMachines(ids),
        timeScale: spec.factor,
        rateLimits: spec.windows,
        latencyMs: latencyFor(spec.factor),
        seed: i + 1,
        tenantId: guid(1, i),
        clientId: guid(2, i),
        clientSecret: FIRST_SECRET,
        // The TLS tenant signs in with its secret in both runs, so both runs compare alike;
        // its tokens are short-lived only in the fault run, where the revocation must bite.
        ...(fault === 'revoked-secret'
          ? { tls: certificate, ...(faults ? { tokenLifetimeSec: SHORT_TOKEN_SEC } : {}) }
          : {}),
        ...(faults && fault === '429-storm'
          ? {
              otherConsumer: {
                // Five times the cap, from the tenant's first call: nearly every call meets a 429.
                schedule: [{ perMinute: firstCap * 5 }],
                startsAt: 'first-call' as const,
              },
            }
          : {}),
      });
      tenants.push({
        name: `t${String(i).padStart(3, '0')}`,
        cloud: i % 2 === 0 ? 'commercial' : 'gcc-high',
        devices: ids.length,
        ids,
        fault,
        sim,
      });
    }
  } catch (error) {
    await Promise.all(tenants.map((t) => t.sim.stop()));
    throw error;
  }
  return { tenants, certificatePem: certificate.cert };
}

/** The `tenants:` list appended to the workers' config file, and the variables it names. */
export function configureTenants(
  configFile: string,
  workDir: string,
  tenants: readonly BenchTenant[],
  certificatePem: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const lines = ['tenants:'];
  for (const [i, t] of tenants.entries()) {
    const creds = t.sim.sim.credentials;
    lines.push(
      `  - name: ${t.name}`,
      `    cloud: ${t.cloud}`,
      `    tenantId: ${creds.tenantId}`,
      `    clientId: ${creds.clientId}`,
      `    apiUrl: ${t.sim.url}`,
    );
    if (t.fault === 'revoked-secret') {
      lines.push(`    authorityHost: ${t.sim.url}`, `    clientSecretEnv: BENCH_SECRET_${i}`);
      env[`BENCH_SECRET_${i}`] = creds.clientSecret;
    } else {
      lines.push(`    accessTokenEnv: BENCH_TOKEN_${i}`);
      env[`BENCH_TOKEN_${i}`] = t.sim.token;
    }
  }
  appendFileSync(configFile, `${lines.join('\n')}\n`);
  const caFile = join(workDir, 'bench-tenants-ca.pem');
  writeFileSync(caFile, certificatePem);
  env['NODE_EXTRA_CA_CERTS'] = caFile;
  return env;
}
