import { z } from 'zod';
import { normaliseWindows } from '../limiter/budget-keys.js';
import { reserveFor } from '../lanes/reserve.js';
import { parseDuration, parseRateLimits, type RateWindow } from './duration.js';

/** A duration given as milliseconds or as text such as `5m`, `600ms`, `24h`. */
const duration = (min = 0) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'Expected a duration such as 600ms, 5s, 5m or 1h' });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `Expected a duration of at least ${min}ms` });
      return z.NEVER;
    }
    return ms;
  });

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

/** `limits.reserve`: windows such as `10/1m,100/1h`, or `0` (none). */
const reserveWindows = z
  .union([z.literal(0), z.literal('0'), rateWindows])
  .transform((value): RateWindow[] => (value === 0 || value === '0' ? [] : value));

const optionalText = z
  .string()
  .min(1)
  .nullish()
  .transform((value) => value ?? undefined);
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'Expected an http(s) URL' })
  .nullish()
  .transform((value) => value ?? undefined);

export const CLOUDS = ['commercial', 'gcc', 'gcc-high', 'dod'] as const;
export type Cloud = (typeof CLOUDS)[number];

const configShape = z.strictObject({
  redis: z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'Expected a redis:// or rediss:// URL'),
    prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'Expected 1-64 letters, digits, _ . or -'),
    /** Refuse to run where Redis may evict keys (and so lose jobs). */
    requireNoEviction: z.boolean(),
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
    requestTimeout: duration(1),
    /** `$top` for list calls; the API allows up to 10,000. */
    pageSize: z.number().int().min(1).max(10_000),
  }),
  limits: z.strictObject({
    windows: rateWindows,
    /**
     * `family`: one budget per endpoint family (scan, machineActions, cancel, machines).
     * `shared`: one budget for all of them, for an API that counts them together.
     */
    budgetScope: z.enum(['family', 'shared']),
    /** Added to every window so a server counting arrival times never sees an excess. */
    guard: duration(0),
    /** Pause after a 429 without a Retry-After header. */
    throttleDefault: duration(1),
    /**
     * How long a slot whose holder never reported back (crashed) is assumed to be in flight; it
     * then stays counted for a whole window. At least token fetch + request timeout.
     */
    lease: duration(1),
    /**
     * Calls per window kept free for `urgent` campaigns (issue 10): `normal` and `background`
     * take a slot only if this much stays free in every window afterwards. `0`: no reserve.
     */
    reserve: reserveWindows,
  }),
  scan: z.strictObject({
    /** Attempts for transient failures (5xx, network); busy devices and 429s spend none. */
    attempts: z.number().int().min(1).max(100),
    backoff: duration(1),
    pendingRetry: duration(1),
    pendingRetryCap: duration(1),
    pendingMaxWait: duration(1),
    /** How often a worker refreshes MachineAction statuses of running campaigns, in one list call. */
    actionPoll: duration(1),
  }),
  worker: z.strictObject({
    concurrency: z.number().int().min(1).max(1_000),
    /** A job's lock: a killed worker's jobs come back after it. */
    lockDuration: duration(100),
    /**
     * How often workers look for jobs of dead workers. The check holds a Redis lock for the
     * checker's own interval, so every worker of a deployment must use the same value.
     */
    stalledInterval: duration(100),
    /** How often a job may be orphaned by a dying worker before it fails. */
    maxStalledCount: z.number().int().min(0).max(100),
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
  dashboard: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535),
    token: optionalText,
    user: optionalText,
    /** scrypt hash as made by `fleetscan dashboard --hash-password`. */
    passwordHash: optionalText,
    allowActions: z.boolean(),
  }),
});

export const configSchema = configShape.superRefine((config, ctx) => {
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
export type ParsedConfig = z.output<typeof configSchema>;
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
  'defender.clientSecret',
  'defender.certificatePassword',
  'defender.accessToken',
  'dashboard.token',
  'dashboard.passwordHash',
]);
