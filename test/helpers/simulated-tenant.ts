import type { Simulator } from '../../src/simulator/build-simulator.js';

/** The environment of CLI children that run campaigns against a simulator over TLS. */
export function simulatedTenantEnv(options: {
  url: string;
  sim: Simulator;
  redisUrl: string;
  prefix: string;
  /** `FLEETSCAN_RATE_LIMITS`, e.g. `100/600ms,300/6000ms`. */
  rateLimits: string;
  /** The simulator's certificate (PEM file), trusted by the children. */
  caFile: string;
  /** A YAML file layered over the defaults (`FLEETSCAN_CONFIG`). */
  configFile?: string;
}): NodeJS.ProcessEnv {
  return {
    ...(options.configFile ? { FLEETSCAN_CONFIG: options.configFile } : {}),
    REDIS_URL: options.redisUrl,
    FLEETSCAN_PREFIX: options.prefix,
    FLEETSCAN_BUDGET_PREFIX: options.prefix,
    FLEETSCAN_RATE_LIMITS: options.rateLimits,
    MDE_API_URL: options.url,
    MDE_AUTHORITY_HOST: options.url,
    MDE_TENANT_ID: options.sim.credentials.tenantId,
    MDE_CLIENT_ID: options.sim.credentials.clientId,
    MDE_CLIENT_SECRET: options.sim.credentials.clientSecret,
    NODE_EXTRA_CA_CERTS: options.caFile,
    LOG_LEVEL: 'warn',
  };
}

/** Polls `check` every 100 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Scan actions the simulator created per device: what reached the API, the ground truth. */
export function actionsCreatedPerDevice(sim: Simulator): Map<string, number> {
  const created = new Map<string, number>();
  for (const call of sim.calls()) {
    if (call.family === 'scan' && call.machineId !== null && call.actionId)
      created.set(call.machineId, (created.get(call.machineId) ?? 0) + 1);
  }
  return created;
}
