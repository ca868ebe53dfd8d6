import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { spawnCli, type CliChild } from './cli-child.js';
import type { DemoEnvironment } from './demo-environment.js';
import { stopWorkers, tail } from './demo-processes.js';
import { demoRedirectUri } from './demo-users.js';

/** The variable that hands the dashboard its client secret: secrets go by reference only. */
const SECRET_ENV = 'FLEETSCAN_DEMO_SIGNIN_SECRET';

/** `fleetscan dashboard` of the demo, signing people in through the simulator's Entra. */
export interface DemoDashboard {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  logFile: string;
  child: CliChild;
  /** SIGTERM, then SIGKILL after 15 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** Refused to start because its port was taken between the check and the listen. */
export class DashboardPortTaken extends Error {
  override name = 'DashboardPortTaken';
}

/**
 * Starts `fleetscan dashboard --allow-actions` as a child process, exactly as an operator runs it,
 * with `dashboard.auth: entra` against the simulator's app registration (its client id, its
 * secret through a variable, the callback on `port`), and resolves once `/healthz` answers.
 * The demo's own config is the base, so it shares the demo's Redis, prefix and budgets.
 */
export async function startDemoDashboard(
  env: DemoEnvironment,
  port: number,
  readyTimeoutMs = 120_000,
): Promise<DemoDashboard> {
  const configFile = join(env.dir, 'dashboard.yaml');
  const base = parse(readFileSync(String(env.env['FLEETSCAN_CONFIG']), 'utf8')) as Record<
    string,
    unknown
  >;
  const dashboard = {
    auth: 'entra',
    entra: {
      tenantId: env.sim.credentials.tenantId,
      clientId: env.sim.credentials.clientId,
      clientSecretEnv: SECRET_ENV,
      authorityHost: env.apiUrl,
      redirectUri: demoRedirectUri(port),
    },
  };
  writeFileSync(configFile, stringify({ ...base, dashboard }), { mode: 0o600 });
  const logFile = join(env.dir, 'dashboard.log');
  const child = spawnCli(
    ['dashboard', '--allow-actions', '--host', '127.0.0.1', '--port', String(port)],
    {
      ...env.env,
      FLEETSCAN_CONFIG: configFile,
      [SECRET_ENV]: env.sim.credentials.clientSecret,
    },
    { logFile },
  );
  const stop = () => stopWorkers([child]);
  const url = `http://127.0.0.1:${String(port)}/`;
  try {
    await untilReady(url, child, logFile, readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, logFile, child, stop };
}

/** Polls `/healthz` until it answers 200; fails when the child exits first or time runs out. */
async function untilReady(
  url: string,
  child: CliChild,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  let exit: { code: number | null } | undefined;
  void child.exited.then((result) => (exit = result));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit) {
      const log = tail(logFile);
      if (/EADDRINUSE/.test(log))
        throw new DashboardPortTaken(`--dashboard-port: ${new URL(url).host} is in use`);
      throw new Error(
        `The dashboard exited (code ${String(exit.code)}) before it answered:\n${log}`,
      );
    }
    const ok = await fetch(new URL('healthz', url), { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `The dashboard did not answer within ${String(timeoutMs)} ms:\n${tail(logFile)}`,
      );
    await delay(200);
  }
}
