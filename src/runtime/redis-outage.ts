import { formatDuration } from '../config/duration.js';
import type { Clock } from '../shared/clock.js';
import { explainRedisError, isRedisConnectionError } from '../shared/redis-errors.js';
import type { Redis } from '../shared/redis.js';

/** Redis stayed away longer than `redis.outageTolerance`: not retryable by this process. */
export class RedisOutageError extends Error {
  override name = 'RedisOutageError';
  readonly retryable = false;
}

export interface OutageOptions {
  /** `redis.outageTolerance` (ms). */
  toleranceMs: number;
  /** The Redis URL without its password (`describeRedisUrl`). */
  where: string;
  clock: Pick<Clock, 'now'>;
  /** One plain line when an outage starts and when it ends (not per retry). */
  say(message: string): void;
}

/**
 * Rides out a Redis outage for a long-running reader (`status --wait`, the dashboard): the first
 * failed read says so once, reads are retried until `toleranceMs` have passed since then, and
 * only then it gives up with one sentence and the fix. Refusals that waiting cannot cure
 * (credentials, certificates) and errors that are not about the connection end it at once.
 */
export function createOutageRider(options: OutageOptions) {
  let downSince: number | null = null;
  const tolerance = formatDuration(options.toleranceMs);
  return {
    /** Whether Redis is being waited for now. */
    get down(): boolean {
      return downSince !== null;
    },
    /** Call after a read that worked. */
    succeeded(): void {
      if (downSince === null) return;
      downSince = null;
      options.say(`Redis is reachable again at ${options.where}; continuing.`);
    },
    /** Call with a failed read's error: returns to retry, throws to give up. */
    failed(error: unknown): void {
      const problem = explainRedisError(error, options.where);
      if (problem.lasting) throw new RedisOutageError(problem.message, { cause: error });
      if (!isRedisConnectionError(error)) throw error;
      const now = options.clock.now();
      if (downSince === null) {
        downSince = now;
        options.say(
          `Redis is unreachable at ${options.where}; retrying for up to ${tolerance} (redis.outageTolerance).`,
        );
        return;
      }
      if (now - downSince >= options.toleranceMs) {
        throw new RedisOutageError(
          `Redis has been unreachable at ${options.where} for longer than ${tolerance} ` +
            '(redis.outageTolerance): start Redis or point REDIS_URL at it, then run the command again ' +
            '(raise FLEETSCAN_REDIS_OUTAGE_TOLERANCE to wait longer).',
          { cause: error },
        );
      }
    },
  };
}

export type OutageRider = ReturnType<typeof createOutageRider>;

/**
 * A command connection (`failFast`) stops reconnecting after a few tries; a reader that rides
 * out an outage asks it to try again before each retry.
 */
export function reconnectIfEnded(redis: Redis): void {
  if (redis.status === 'end') redis.connect().catch(() => undefined);
}

/**
 * Pings Redis every `intervalMs` for a long-running server (the dashboard) and feeds the
 * answers to `rider`; calls `onGiveUp` once with its sentence when the outage outlasted the
 * tolerance. Returns a function that stops watching.
 */
export function watchRedisOutage(
  redis: Redis,
  rider: OutageRider,
  options: { intervalMs: number; onGiveUp: (error: Error) => void },
): () => void {
  let stopped = false;
  const probe = async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // ioredis queues commands while it reconnects: a probe must answer now or count as down.
      await Promise.race([
        redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`no answer within ${String(options.intervalMs)}ms`));
          }, options.intervalMs);
        }),
      ]);
      rider.succeeded();
    } catch (error) {
      try {
        rider.failed(error);
      } catch (final) {
        stop();
        options.onGiveUp(final instanceof Error ? final : new Error(String(final)));
      }
    } finally {
      clearTimeout(timer);
    }
  };
  let running = false;
  const interval = setInterval(() => {
    if (running || stopped) return;
    running = true;
    void probe().finally(() => {
      running = false;
    });
  }, options.intervalMs);
  interval.unref();
  const stop = () => {
    stopped = true;
    clearInterval(interval);
  };
  return stop;
}
