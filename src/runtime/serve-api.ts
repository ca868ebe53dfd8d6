import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../config/schema.js';
import { buildRuntime } from './build-runtime.js';
import type { Logger } from '../shared/logger.js';
import type { ApiDeps, CancelActions } from '../api/api-deps.js';
import { registerApi } from '../api/api-plugin.js';
import { killSwitchFor } from './kill-switch.js';
import { startApiServices } from './api-services.js';
import { registerReadyRoute } from '../dashboard/routes/health.js';
import { refuseInsecureBind } from '../dashboard/auth.js';
import { readServerTls } from '../shared/server-tls.js';

/** The API alone, as a fastify app (`fleetscan api`); never listens by itself. */
export async function buildApiApp(
  deps: ApiDeps,
  log?: Logger,
  https?: { cert: string; key: string },
): Promise<FastifyInstance> {
  const app = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: log ?? pino({ level: 'silent' }),
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    bodyLimit: deps.settings.bodyLimit,
  }) as unknown as FastifyInstance;
  app.get('/healthz', () => ({ ok: true }));
  // Ready: Redis answers and has not lost data (src/ops/store-identity.ts).
  registerReadyRoute(app, deps.redis, false, deps.prefix);
  await registerApi(app, deps);
  return app;
}

export interface ApiServer {
  address: string;
  close(): Promise<void>;
}

/** Builds the runtime, the API, the webhook watcher and delivery worker, and listens. */
export async function startApiServer(
  config: Config,
  options: { log?: Logger; cancelActions?: CancelActions } = {},
): Promise<ApiServer> {
  const https = readServerTls(config.api, 'api');
  const refusal = refuseInsecureBind(
    config.api.host,
    { tls: https !== undefined, insecureBind: config.api.insecureBind },
    { cert: '--tls-cert', key: '--tls-key', config: 'api' },
  );
  if (refusal) throw new Error(refusal);
  const runtime = await buildRuntime(config, {
    role: 'api',
    ...(options.log ? { log: options.log } : {}),
  });
  const killSwitch = killSwitchFor(runtime, 'the fleetscan API');
  const services = startApiServices(runtime, {
    cancelActions:
      options.cancelActions ?? (async (campaignId) => ({ ...(await killSwitch(campaignId)) })),
  });
  const app = await buildApiApp(services.deps, runtime.log.child({ component: 'api' }), https);
  const close = async () => {
    await app.close();
    await services.close();
    await runtime.close();
  };
  try {
    const address = await app.listen({ host: config.api.host, port: config.api.port });
    runtime.log.info({ address }, `automation API listening on ${address}/api/v1`);
    return { address, close };
  } catch (error) {
    await close();
    throw error;
  }
}
