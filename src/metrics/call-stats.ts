import type { ApiCallEvent } from '../defender/call.js';
import type { Redis } from '../shared/redis.js';
import { callTimelineKey, campaignOfCall, timelineField } from './call-timeline.js';

export interface ApiCallCount {
  family: string;
  status: number;
  count: number;
}

const apiKey = (prefix: string) => `${prefix}:stats:api`;
const durationKey = (prefix: string) => `${prefix}:stats:api-ms`;
const tokenKey = (prefix: string) => `${prefix}:stats:tokens`;

export interface CallStatsOptions {
  /** Bucket of the campaigns' call timelines (`timelineBucketMs(limits.windows)`); default 1 min. */
  timelineBucketMs?: number;
  now?: () => number;
}

/**
 * Counts API calls in Redis so that `/metrics`, served by one process, covers the calls of every
 * worker on every host; a call made for a campaign (`callsFor`) is counted in that campaign's
 * call timeline too, for its report. Fire-and-forget: a lost increment must never fail a scan.
 */
export function createCallStats(redis: Redis, prefix: string, options: CallStatsOptions = {}) {
  const bucketMs = options.timelineBucketMs ?? 60_000;
  const now = options.now ?? Date.now;
  return {
    recordApiCall(event: ApiCallEvent): void {
      const campaignId = campaignOfCall();
      // A request that never left took no slot of the budget: the timeline shows what the caps count.
      if (campaignId !== undefined && event.notSent !== true) {
        redis
          .hincrby(
            callTimelineKey(prefix, campaignId),
            timelineField(event.family, now(), bucketMs),
            1,
          )
          .catch(() => undefined);
      }
      redis.hincrby(apiKey(prefix), `${event.family}|${event.status}`, 1).catch(() => undefined);
      redis
        .hincrby(durationKey(prefix), event.family, Math.max(0, Math.round(event.durationMs)))
        .catch(() => undefined);
    },
    recordTokenRefresh(): void {
      redis.incr(tokenKey(prefix)).catch(() => undefined);
    },
    async readApiCalls(): Promise<ApiCallCount[]> {
      const fields = await redis.hgetall(apiKey(prefix));
      return Object.entries(fields).map(([field, count]) => {
        const [family = '', status = '0'] = field.split('|');
        return { family, status: Number(status), count: Number(count) };
      });
    },
    /** Total time spent in API calls per endpoint family, in seconds (with the call counts: mean latency). */
    async readApiCallSeconds(): Promise<{ family: string; seconds: number }[]> {
      const fields = await redis.hgetall(durationKey(prefix));
      return Object.entries(fields).map(([family, ms]) => ({
        family,
        seconds: Number(ms) / 1_000,
      }));
    },
    async readTokenRefreshes(): Promise<number> {
      return Number((await redis.get(tokenKey(prefix))) ?? 0);
    },
  };
}

export type CallStats = ReturnType<typeof createCallStats>;
