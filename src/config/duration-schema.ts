import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration given as milliseconds or as text such as `5m`, `600ms`, `24h`. */
export const duration = (min = 0) =>
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
