import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseRateLimits } from '../../config/duration.js';
import { parseConsumerSchedule } from '../../simulator/other-consumer.js';
import type { SimulatorOptions } from '../../simulator/options.js';
import {
  formatSimulatorBanner,
  PLAIN_HTTP_TOKEN_LIFETIME_SEC,
  simulatorEnvironment,
} from './simulator-environment.js';
import { UsageError } from '../errors.js';

interface SimulateFlags {
  port: string;
  host: string;
  fleet?: string;
  machines?: string;
  timeScale: string;
  rateLimits?: string;
  faultRate: string;
  lostRate: string;
  latencyMs: string;
  latencyLegs: string;
  existingActionRate: string;
  tls?: boolean;
  tlsCertOut?: string;
  certificate?: string;
  callLog?: string;
  seed: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenLifetime?: string;
  emptyList404?: boolean;
  sharedBudget?: boolean;
  users?: string;
  userGroups?: string;
  appRoles?: string;
  publicClient?: boolean;
  otherConsumer?: string;
}

function integer(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got '${text}'`);
  return n;
}

function share(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || n > 1)
    throw new UsageError(`${flag}: expected a number from 0 to 1, got '${text}'`);
  return n;
}

function latency(text: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  const min = Number(match?.[1]);
  const max = Number(match?.[2] ?? match?.[1]);
  if (!match || max < min)
    throw new UsageError(`--latency-ms: expected MIN-MAX in ms (e.g. 5-40), got '${text}'`);
  return [min, max];
}

function latencyLegs(text: string): 'both' | 'reply' {
  if (text === 'both' || text === 'reply') return text;
  throw new UsageError(`--latency-legs: expected both or reply, got '${text}'`);
}

function pathSegment(flag: string, text: string | undefined): string | undefined {
  if (text !== undefined && !/^[A-Za-z0-9._-]+$/.test(text))
    throw new UsageError(`${flag}: letters, digits, '.', '_' and '-' only`);
  return text;
}

/** Turns the flags into simulator options, refusing bad values with the flag's name. */
async function optionsFrom(flags: SimulateFlags): Promise<SimulatorOptions> {
  if (flags.fleet !== undefined && flags.machines !== undefined)
    throw new UsageError('give either --fleet or --machines, not both');
  const timeScale = Number(flags.timeScale);
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new UsageError(`--time-scale: expected a number > 0, got '${flags.timeScale}'`);
  const rateLimits = flags.rateLimits === undefined ? undefined : parseRateLimits(flags.rateLimits);
  if (flags.rateLimits !== undefined && !rateLimits)
    throw new UsageError(`--rate-limits: expected e.g. 100/1m,1500/1h, got '${flags.rateLimits}'`);
  const otherSchedule =
    flags.otherConsumer === undefined ? undefined : parseConsumerSchedule(flags.otherConsumer);
  if (flags.otherConsumer !== undefined && !otherSchedule)
    throw new UsageError(
      `--other-consumer: expected e.g. 30/1m:8m,0/1m (rate:how long, the last one open-ended), got '${flags.otherConsumer}'`,
    );
  let machines: SimulatorOptions['machines'];
  if (flags.machines !== undefined) {
    try {
      const { readMachinesFile } = await import('../../simulator/machine-file.js');
      machines = await readMachinesFile(flags.machines);
    } catch (error) {
      throw new UsageError(`--machines: ${(error as Error).message}`);
    }
  }
  let certificatePem: string | undefined;
  if (flags.certificate !== undefined) {
    try {
      certificatePem = await readFile(flags.certificate, 'utf8');
    } catch (error) {
      throw new UsageError(`--certificate: ${(error as Error).message}`);
    }
    if (!certificatePem.includes('BEGIN CERTIFICATE'))
      throw new UsageError('--certificate: no PEM certificate in that file');
  }
  return {
    seed: integer('--seed', flags.seed, 0, 2 ** 32 - 1),
    ...(machines
      ? { machines }
      : { fleet: integer('--fleet', flags.fleet ?? '1000', 0, 1_000_000) }),
    timeScale,
    ...(rateLimits ? { rateLimits } : {}),
    faultRate: share('--fault-rate', flags.faultRate),
    lostRate: share('--lost-rate', flags.lostRate),
    latencyMs: latency(flags.latencyMs),
    latencyLegs: latencyLegs(flags.latencyLegs),
    existingActionRate: share('--existing-action-rate', flags.existingActionRate),
    ...(flags.tokenLifetime === undefined
      ? {}
      : { tokenLifetimeSec: integer('--token-lifetime', flags.tokenLifetime, 1) }),
    ...(flags.tenantId === undefined
      ? {}
      : { tenantId: pathSegment('--tenant-id', flags.tenantId) }),
    ...(flags.clientId === undefined ? {} : { clientId: flags.clientId }),
    ...(flags.clientSecret === undefined ? {} : { clientSecret: flags.clientSecret }),
    ...(certificatePem ? { certificatePem } : {}),
    ...(flags.callLog === undefined ? {} : { callLogFile: flags.callLog }),
    emptyListAs404: flags.emptyList404 === true,
    budgetScope: flags.sharedBudget === true ? 'shared' : 'family',
    ...(otherSchedule ? { otherConsumer: { schedule: otherSchedule } } : {}),
    ...delegatedOptions(flags),
  };
}

/** `--users`, `--user-groups`, `--app-roles`, `--no-public-client`: who may sign in, and how. */
function delegatedOptions(flags: SimulateFlags): Partial<SimulatorOptions> {
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const groups = flags.userGroups === undefined ? undefined : list(flags.userGroups);
  return {
    users: list(flags.users).map((username) => ({
      username,
      ...(groups ? { deviceGroups: groups } : {}),
    })),
    ...(flags.appRoles === undefined
      ? {}
      : { appRoles: flags.appRoles === 'none' ? [] : list(flags.appRoles) }),
    publicClient: flags.publicClient !== false,
  };
}

/** `fleetscan simulate`: a fake Defender API + Entra token endpoint, until SIGTERM/SIGINT. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'Run the Defender for Endpoint API simulator (API + Entra token endpoint) until signalled',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '4010')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--fleet <n>', 'number of devices to generate (default 1000)')
    .option('--machines <file>', 'JSON array of devices instead of a generated fleet')
    .option(
      '--time-scale <x>',
      'speed-up: rate windows and action lifecycles are divided by it',
      '1',
    )
    .option(
      '--rate-limits <spec>',
      'windows per endpoint family before scaling (default 100/1m,1500/1h)',
    )
    .option('--fault-rate <p>', 'share of calls answered 5xx before anything happens', '0')
    .option('--lost-rate <p>', 'share of calls whose reply is lost after the work was done', '0')
    .option('--latency-ms <min-max>', 'network latency jitter per call in ms', '0')
    .option(
      '--latency-legs <legs>',
      'both: latency split between request (delays arrival) and reply; reply: replies only',
      'both',
    )
    .option(
      '--existing-action-rate <p>',
      'share of busy-device answers that are 201 with the pending action',
      '0.2',
    )
    .option('--tls', 'serve HTTPS with a fresh self-signed certificate')
    .option(
      '--tls-cert-out <file>',
      'where --tls writes the certificate to trust (NODE_EXTRA_CA_CERTS)',
    )
    .option(
      '--certificate <pem>',
      'public certificate whose private key may sign client assertions',
    )
    .option('--call-log <file>', 'append one NDJSON line per call to this file')
    .option('--seed <n>', 'seed for the fleet, faults and jitter', '1')
    .option('--tenant-id <id>', 'tenant id the simulator accepts')
    .option('--client-id <id>', 'client (application) id the simulator accepts')
    .option('--client-secret <secret>', 'client secret the simulator accepts')
    .option('--token-lifetime <seconds>', 'lifetime of issued access tokens (default 3599)')
    .option(
      '--empty-list-404',
      'answer 404 to an empty List MachineActions too (List Machines always does)',
    )
    .option(
      '--users <upns>',
      'users who may sign in with a device code (fleetscan login), comma-separated',
    )
    .option('--user-groups <groups>', 'device groups (rbacGroupName) the users reach; default: all')
    .option('--app-roles <roles>', "roles in app tokens, comma-separated, or 'none' (default: all)")
    .option('--no-public-client', 'refuse device-code sign-in as Entra does (AADSTS7000218)')
    .option(
      '--other-consumer <schedule>',
      'an invisible second consumer of the scan budget, e.g. 30/1m:8m,0/1m (API time)',
    )
    .option(
      '--shared-budget',
      'one rate budget for every endpoint family of an app+tenant (default: one per family)',
    )
    .action(async (flags: SimulateFlags) => {
      const port = integer('--port', flags.port, 0, 65_535);
      const options = await optionsFrom(flags);
      const { buildSimulator } = await import('../../simulator/build-simulator.js');
      const { createSelfSignedCertificate } = await import('../../simulator/tls.js');
      let caFile: string | undefined;
      if (flags.tls) {
        // The host name too, so containers reach it as https://simulator:4010 (docker compose).
        const tls = await createSelfSignedCertificate([hostname()]);
        caFile =
          flags.tlsCertOut ?? join(tmpdir(), `fleetscan-simulator-${String(process.pid)}.pem`);
        await writeFile(caFile, tls.cert);
        options.tls = tls;
      }
      const sim = await buildSimulator(options);
      await sim.app.listen({ port, host: flags.host });
      const address = sim.app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const shownHost = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
      const url = `${flags.tls ? 'https' : 'http'}://${shownHost}:${String(actualPort)}`;
      const environment = simulatorEnvironment({
        url,
        tls: flags.tls === true,
        caFile,
        credentials: sim.credentials,
        issueToken: () => sim.issueToken({ lifetimeSec: PLAIN_HTTP_TOKEN_LIFETIME_SEC }),
        issueGraphToken: () =>
          sim.issueToken({
            lifetimeSec: PLAIN_HTTP_TOKEN_LIFETIME_SEC,
            resource: 'https://graph.microsoft.com',
          }),
        timeScale: options.timeScale ?? 1,
        rateLimits: options.rateLimits,
      });
      process.stdout.write(formatSimulatorBanner(url, sim.machines.length, environment));
      await new Promise<void>((resolve) => {
        let stopping = false;
        // The listeners stay until the server has closed: a dependency's signal-exit hook
        // re-raises the signal when it finds itself the only listener left.
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          void sim.close().finally(() => {
            process.off('SIGTERM', stop);
            process.off('SIGINT', stop);
            resolve();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
