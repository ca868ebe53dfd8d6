import { z } from 'zod';
import { reserveFor } from './reserve.js';
import { normaliseWindows, parseRateLimits, type RateWindow } from './duration.js';
import { duration } from './duration-schema.js';
import { isClusterUrl, parseClusterNode, parseClusterUrl } from '../shared/redis-cluster-target.js';
import { isCidr } from '../shared/address-ranges.js';
import { entraSignInIssues, entraSignInShape } from './signin-schema.js';
import { CLOUDS, tenantShape, type TenantEntry } from './tenants-schema.js';

/**
 * The guard `auto` gives: what it must cover (whole-ms stamps, window ends the server may count
 * inclusively, clocks that run at slightly different rates) is a ms or two plus a share of the
 * window, so 0.1 % of the shortest one, never under 2 ms.
 */
export function autoGuardMs(windows: readonly RateWindow[]): number {
  const shortest = Math.min(...windows.map((w) => w.windowMs));
  return Number.isFinite(shortest) ? Math.max(2, Math.ceil(shortest / 1000)) : 2;
}

const rateWindows = z
  .union([z.string(), z.array(z.object({ cap: z.number().int().min(1), windowMs: duration(1) }))])
  .transform((value, ctx): RateWindow[] => {
    if (typeof value !== 'string') return value;
    const parsed = parseRateLimits(value);
    if (!parsed) {
      ctx.addIssue({
        code: 'custom',
        message: 'Expected windows such as 100/1m,1500/1h (units ms, s, m, h)',
      });
      return z.NEVER;
    }
    return parsed;
  });

/** `10/1m` (a rate, scaled to each window's length) or `10%` (a share of each configured cap). */
const adaptiveFloor = z
  .string()
  .transform((value, ctx): { cap: number; windowMs: number } | { share: number } => {
    const share = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
    if (share) {
      const percent = Number(share[1]);
      if (percent > 0 && percent <= 100) return { share: percent / 100 };
    } else {
      const rate = parseRateLimits(value);
      if (rate?.length === 1 && rate[0]) return rate[0];
    }
    ctx.addIssue({
      code: 'custom',
      message: 'Expected a rate such as 10/1m or a share such as 10%',
    });
    return z.NEVER;
  });
/** `limits.reserve`: windows such as `10/1m,100/1h`, or `0` (none). */
const reserveWindows = z
  .union([z.literal(0), z.literal('0'), rateWindows])
  .transform((value): RateWindow[] => (value === 0 || value === '0' ? [] : value));

/** Optional TLS for a listening server, and the explicit opt-out needed to bind elsewhere than loopback without it. */
const serverTls = {
  /** PEM certificate (chain) file; with `tlsKey`, the server speaks HTTPS only. */
  tlsCert: z.string().min(1).nullable(),
  tlsKey: z.string().min(1).nullable(),
  /** Allows a non-loopback bind without TLS (behind a TLS-terminating proxy). */
  insecureBind: z.boolean(),
};

const optionalText = z
  .string()
  .min(1)
  .nullish()
  .transform((value) => value ?? undefined);
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'Expected an http(s) URL' })
  .nullish()
  .transform((value) => value ?? undefined);

function isClusterNode(node: string): boolean {
  try {
    parseClusterNode(node);
    return true;
  } catch {
    return false;
  }
}

/** A `redis+cluster://` URL must name at least one valid node; other URLs pass through. */
function clusterUrlIsValid(url: string): boolean {
  if (!isClusterUrl(url)) return true;
  try {
    parseClusterUrl(url);
    return true;
  } catch {
    return false;
  }
}

export { CLOUDS, type Cloud, type TenantEntry } from './tenants-schema.js';

/** An octal permission such as `0600` or `640`, as a number (0o600). */
const octalMode = z
  .string()
  .regex(/^0?[0-7]{3}$/, 'Expected an octal mode such as 0600')
  .transform((text) => Number.parseInt(text, 8));

const configShape = z.strictObject({
  redis: z.strictObject({
    url: z
      .string()
      .regex(
        /^rediss?(\+cluster)?:\/\//,
        'Expected a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL',
      )
      .refine(clusterUrlIsValid, 'Expected redis+cluster://[user:password@]host:port[,host:port]'),
    /**
     * Seed nodes of a Redis Cluster (`host:port`); null = one Redis server at `url`. The URL's
     * scheme still decides TLS (rediss://) and may carry the user and password.
     */
    cluster: z
      .array(z.string().refine(isClusterNode, 'Expected host:port (e.g. 10.0.0.5:6379)'))
      .min(1, 'Expected at least one host:port node (or null for a single Redis)')
      .nullish()
      .transform((nodes) => nodes ?? null),
    prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'Expected 1-64 letters, digits, _ . or -'),
    /** Refuse to run where Redis may evict keys (and so lose jobs). */
    requireNoEviction: z.boolean(),
    /**
     * Namespace of the API budgets. Microsoft counts per app + tenant, not per deployment, so
     * deployments sharing a Redis (prod and test prefixes) must share one budget per identity.
     */
    budgetPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'Expected 1-64 letters, digits, _ . or -'),
    /** ACL user (Redis 6+); a password alone authenticates the `default` user. */
    username: optionalText,
    /** From REDIS_PASSWORD, or read from `passwordFile` at load; never printed. */
    password: optionalText,
    passwordFile: optionalText,
    /**
     * How long a long-running reader (`status --wait`, the dashboard) waits out a Redis outage
     * before it gives up; workers wait without a limit.
     */
    outageTolerance: duration(0),
    /** For rediss:// URLs: the CA that signed Redis's certificate, and an optional client pair. */
    tls: z.strictObject({
      caFile: optionalText,
      certFile: optionalText,
      keyFile: optionalText,
    }),
  }),
  defender: z.strictObject({
    cloud: z.enum(CLOUDS),
    apiUrl: httpUrl,
    authorityHost: httpUrl,
    tokenScope: optionalText,
    tenantId: optionalText,
    clientId: optionalText,
    clientSecret: optionalText,
    certificatePath: optionalText,
    certificatePassword: optionalText,
    accessToken: optionalText,
    /** `app`: client credentials; `delegated`: a user signed in with `fleetscan login`. */
    auth: z.enum(['app', 'delegated']),
    /** Where `fleetscan login` keeps its token cache; undefined = `~/.fleetscan/token-cache.json`. */
    tokenCachePath: optionalText,
    requestTimeout: duration(1),
    /** `$top` for list calls; the API allows up to 10,000. */
    pageSize: z.number().int().min(1).max(10_000),
  }),
  limits: z
    .strictObject({
      windows: rateWindows,
      /**
       * `family`: one budget per endpoint family (scan, machineActions, cancel, machines).
       * `shared`: one budget for all of them, for an API that counts them together.
       */
      budgetScope: z.enum(['family', 'shared']),
      /**
       * Added to every window so a server counting arrival times never sees an excess. `auto`:
       * 0.1 % of the shortest window, at least 2 ms (60 ms for 100/1m; compressed test windows
       * get a compressed guard instead of a real-time one that would cost more than the calls).
       */
      guard: z.union([z.literal('auto'), duration(0)]),
      /** Pause after a 429 without a Retry-After header. */
      throttleDefault: duration(1),
      /**
       * How long a slot whose holder never reported back (crashed) is assumed to be in flight; it
       * then stays counted for a whole window. At least token fetch + request timeout.
       */
      lease: duration(1),
      /** Adaptive budget (issue 17): learn a real cap below the configured one from 429s. */
      adaptive: z.strictObject({
        enabled: z.boolean(),
        /** Floor of the effective caps: a rate scaled to each window (`10/1m`) or a share (`10%`). */
        min: adaptiveFloor,
        /** No increase for this long after a decrease; doubled by each failure at or below the last. */
        hold: duration(1),
        holdMax: duration(1),
        /** While calls succeed after the hold, one increase (doubling steps) this often. */
        increaseEvery: duration(1),
        /** Calls in flight at once above the level the server has been seen to accept. */
        probeInflight: z.number().int().min(1).max(1_000),
      }),
      /**
       * Calls per window kept free for `urgent` campaigns (issue 10): `normal` and `background`
       * take a slot only if this much stays free in every window afterwards. `0`: no reserve.
       */
      reserve: reserveWindows,
      /**
       * Tenant-wide fault breaker (issue 9): after a credential, authority, Entra or permission
       * fault, a budget's dispatch stops and one probe call tries again after `probeMin`, doubling
       * after each failed probe up to `probeMax`.
       */
      breaker: z.strictObject({
        probeMin: duration(1),
        probeMax: duration(1),
      }),
    })
    .transform((limits) => ({
      ...limits,
      guard: limits.guard === 'auto' ? autoGuardMs(limits.windows) : limits.guard,
    })),
  scan: z.strictObject({
    /** Attempts for transient failures (5xx, network); busy devices and 429s spend none. */
    attempts: z.number().int().min(1).max(100),
    backoff: duration(1),
    pendingRetry: duration(1),
    pendingRetryCap: duration(1),
    pendingMaxWait: duration(1),
    /** Tracker round interval used only where no `tracking` settings are passed (tests, embedders). */
    actionPoll: duration(1),
  }),
  worker: z.strictObject({
    concurrency: z.number().int().min(1).max(1_000),
    /** A job's lock: a killed worker's jobs come back after it. */
    lockDuration: duration(100),
    /**
     * Deprecated, ignored (BullMQ's stalled-job check, replaced by the device lease of
     * `lockDuration`): accepted so that existing files still load; removed in 1.0.0.
     */
    stalledInterval: duration(100).optional(),
    /** Deprecated, ignored (a dying worker's device spends one of `scan.attempts`); see above. */
    maxStalledCount: z.number().int().min(0).max(100).optional(),
  }),
  /** The action tracker (`src/tracking`): one listing pass per round for every open campaign. */
  tracking: z.strictObject({
    /** Time between rounds. */
    interval: duration(1),
    /** Tracking of a campaign stops this long after it was created, recording what stayed open. */
    horizon: duration(1),
    /** Most of the machineActions budget the tracker may spend (0 < share ≤ 1). */
    budgetShare: z.number().gt(0).max(1),
    /** The tracker's lock lives this long unless renewed (it is renewed on every page). */
    lockTtl: duration(100),
    /** `requestor eq '…'` in the listing filter, when the API shows our app under this name. */
    requestor: optionalText,
  }),
  /** Microsoft Graph advanced hunting, for proof of completed scans (`fleetscan verify`). */
  hunting: z.strictObject({
    /** Graph base URL; null = the cloud's Graph host. */
    graphUrl: httpUrl,
    /** Token scope for Graph; null = the cloud's Graph host + `/.default`. */
    tokenScope: optionalText,
    /** A ready Graph token (`GRAPH_ACCESS_TOKEN`), as `defender.accessToken` is for Defender. */
    accessToken: optionalText,
    /** The hunting budget per tenant (Graph: at least 45 calls/min). */
    windows: rateWindows,
    /** Device ids per query: keeps the query text and the row count within Graph's limits. */
    chunkSize: z.number().int().min(1).max(2_000),
  }),
  verify: z.strictObject({
    /** Run `verify` automatically once a campaign has settled. */
    enabled: z.boolean(),
    /**
     * How long after a scan's end (its event, or the latest it could end) a detection still
     * counts as the scan's finding, and how long the after-settle verify waits to look again.
     */
    findingsGrace: duration(0),
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  }),
  /** More tenants besides `default` (the MDE_* variables); secrets by reference only. */
  tenants: z.array(tenantShape),
  retention: z.strictObject({
    /** A finished or cancelled campaign is archived (and removed from Redis) this long after it ended. */
    keep: duration(1),
    /** Where archives are written (relative paths: from the working directory). */
    archiveDir: z.string().min(1),
    /** How often the automatic sweep looks for campaigns past `keep` (one process at a time). */
    sweepInterval: duration(1_000),
    /** Whether workers run the automatic sweep; `fleetscan prune` works either way. */
    sweep: z.boolean(),
    /** Keys looked at per SCAN while looking for a campaign's other keys: each command stays short. */
    scanBatch: z.number().int().min(1).max(10_000),
    memory: z.strictObject({
      /** Redis bytes one device costs while it waits (record + job); `bench worker-cost`. */
      bytesPerDevice: z.number().int().min(1),
      /** Share of Redis's memory above which the dashboard and doctor warn. */
      warnAt: z.number().gt(0).max(1),
      /** `scan` refuses a campaign that would take Redis above this share of its memory. */
      refuseAt: z.number().gt(0).max(1),
    }),
  }),
  /** Permissions of the files (archives, exports, reports) and directories fleetscan writes. */
  files: z.strictObject({
    mode: octalMode,
    dirMode: octalMode,
  }),
  dashboard: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535),
    /** A bearer secret: long enough that guessing it at 5 tries a second is hopeless. */
    token: z
      .string()
      .min(32, 'Expected at least 32 characters (openssl rand -hex 32)')
      .nullish()
      .transform((value) => value ?? undefined),
    user: optionalText,
    /** scrypt hash as made by `fleetscan dashboard --hash-password`. */
    passwordHash: optionalText,
    allowActions: z.boolean(),
    /** How often the pages' live blocks are read, once for all viewers (server-sent events). */
    liveInterval: duration(200),
    ...serverTls,
    /** `shared`: the token and/or Basic user above; `entra`: people sign in with Entra ID. */
    auth: z.enum(['shared', 'entra']),
    entra: entraSignInShape,
  }),
  /** The automation API under `/api/v1` (docs/automation.md). */
  api: z.strictObject({
    /** Serve `/api/v1` from the dashboard process too (`fleetscan api` serves it alone). */
    enabled: z.boolean(),
    /** `fleetscan api` binds here; tokens are required whatever the address. */
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535),
    /** Requests per token per `rateLimitWindow`, over every process (counted in Redis). */
    rateLimitMax: z.number().int().min(1),
    rateLimitWindow: duration(1_000),
    /** How long an Idempotency-Key's first answer is replayed. */
    idempotencyTtl: duration(60_000),
    /** Largest request body (a device list): 16 MiB holds about 350,000 ids. */
    bodyLimit: z.number().int().min(1_024),
    ...serverTls,
    /** Audit entries older than this are exported to `auditExportDir`, then trimmed. */
    auditMaxAge: duration(60_000),
    /** Beyond this many entries the oldest are exported and trimmed whatever their age. */
    auditMaxEntries: z.number().int().min(100),
    /** Where trimmed audit entries go (`audit-YYYY-MM-DD.ndjson`); null: `<retention.archiveDir>/audit`. */
    auditExportDir: z.string().min(1).nullable(),
    /** How often the API process exports and trims the audit stream. */
    auditTrimInterval: duration(1_000),
    /** Refusals of one token (or address) on one route inside this window share one audit entry. */
    denialWindow: duration(1_000),
    /** Refusals in one group and window that raise `security.denials` (webhook, log, metric). */
    denialAlert: z.number().int().min(1),
  }),
  /** Signed webhook deliveries (src/webhooks). */
  webhooks: z.strictObject({
    /** Attempts per event and receiver before it is given up as `failed` (every one recorded). */
    attempts: z.number().int().min(1).max(1_000),
    /** First retry delay; doubles per attempt up to `backoffCap`. */
    backoff: duration(1),
    backoffCap: duration(1),
    /** Per delivery request; a slow receiver never holds anything else up. */
    timeout: duration(1),
    /** How often the watcher looks for campaign events to send. */
    watchInterval: duration(10),
    /** Receivers delivered to at once (each receiver still gets its events one by one, in order). */
    concurrency: z.number().int().min(1).max(100),
    /** Plain `http://` receivers; off by default (deliveries carry campaign data and signatures). */
    allowHttp: z.boolean(),
    /**
     * Addresses (CIDR, e.g. `10.20.0.0/16`, `127.0.0.1/32`, `fd00::/8`) a receiver may resolve
     * to although they are loopback, link-local, private or metadata ranges, refused otherwise.
     */
    allowNetworks: z.array(z.string().refine(isCidr, 'Expected a CIDR such as 10.0.0.0/8')),
  }),
  schedules: z.strictObject({
    /** Worker processes take turns (a fenced Redis lock) firing the stored schedules. */
    enabled: z.boolean(),
    /** How often the lock holder looks for due fires. */
    tick: duration(10),
    /** Lease of the firing lock: a dead holder is replaced after this. */
    lockTtl: duration(100),
    /** Demos and tests only: scheduled time runs this many times faster than real time… */
    timeScale: z.number().positive(),
    /** …from this instant (ISO date-time or ms), which every process must share. */
    timeOrigin: z
      .union([z.number(), z.string()])
      .nullable()
      .transform((value, ctx) => {
        if (value === null) return null;
        const ms = typeof value === 'number' ? value : new Date(value).getTime();
        if (Number.isNaN(ms)) {
          ctx.addIssue({ code: 'custom', message: 'Expected an ISO date-time or ms since epoch' });
          return z.NEVER;
        }
        return ms;
      }),
  }),
});

export const configSchema = configShape.superRefine((config, ctx) => {
  for (const server of ['dashboard', 'api'] as const) {
    if ((config[server].tlsCert === null) !== (config[server].tlsKey === null)) {
      ctx.addIssue({
        code: 'custom',
        path: [server, config[server].tlsCert === null ? 'tlsCert' : 'tlsKey'],
        message: 'Expected both tlsCert and tlsKey, or neither',
      });
    }
  }
  if (config.dashboard.auth === 'entra') {
    for (const issue of entraSignInIssues(config.dashboard.entra)) {
      ctx.addIssue({ code: 'custom', ...issue, path: ['dashboard', 'entra', ...issue.path] });
    }
    for (const key of ['token', 'user', 'passwordHash'] as const) {
      if (config.dashboard[key] === undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['dashboard', key],
        message: 'Not used with dashboard.auth: entra (people sign in; set it to null)',
      });
    }
  }
  if (config.schedules.timeScale !== 1 && config.schedules.timeOrigin === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['schedules', 'timeOrigin'],
      message: 'Expected an origin shared by every process when schedules.timeScale is not 1',
    });
  }
  try {
    reserveFor(normaliseWindows(config.limits.windows), config.limits.reserve);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'reserve'],
      message: (error as Error).message,
    });
  }
  // A slot is taken before the token is fetched (bounded by requestTimeout) and held until the
  // reply (bounded by requestTimeout): a lease shorter than both would free it while in flight.
  if (config.limits.lease < 2 * config.defender.requestTimeout) {
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'lease'],
      message: `Expected at least twice defender.requestTimeout (${config.defender.requestTimeout * 2}ms)`,
    });
  }
});

/** Config as it comes out of the schema, before it is frozen. */
export type ParsedConfig = Omit<z.output<typeof configSchema>, 'tenants'> & {
  /** With their secrets read from the variables and files they name (config/load.ts). */
  tenants: TenantEntry[];
};
export type ConfigInput = z.input<typeof configSchema>;

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The validated, frozen configuration passed down to every part. */
export type Config = DeepReadonly<ParsedConfig>;

/** Keys whose values are secrets: never echoed in errors, logs or output. */
export const SECRET_KEYS = new Set([
  'redis.password',
  'defender.clientSecret',
  'defender.certificatePassword',
  'defender.accessToken',
  'hunting.accessToken',
  'dashboard.token',
  'dashboard.passwordHash',
]);
