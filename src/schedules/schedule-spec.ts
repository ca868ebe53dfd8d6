import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_TENANT, PRIORITIES } from '../campaigns/campaign.js';
import { parseDuration } from '../config/duration.js';
import { SCAN_TYPES } from '../defender/machine-action.js';
import { parseWindow, WindowError } from './dispatch-window.js';
import { isTimeZone } from './local-time.js';
import { checkCron, CronError } from './plan-fires.js';
import { OVERLAP_POLICIES, SCHEDULE_NAME, type ScheduleSpec } from './schedule.js';

/** A schedule definition that cannot be stored; the message names the field and the source. */
export class ScheduleSpecError extends Error {
  override name = 'ScheduleSpecError';
}

const text = z.string().trim().min(1);
const when = z.union([z.string(), z.date(), z.number()]).transform((value, ctx) => {
  const ms = value instanceof Date ? value.getTime() : new Date(value).getTime();
  if (Number.isNaN(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: 'Expected an ISO date-time such as 2026-01-31T22:00Z',
    });
    return z.NEVER;
  }
  return ms;
});
const span = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || ms < 0) {
    ctx.addIssue({ code: 'custom', message: 'Expected a duration such as 30s, 10m or 1h' });
    return z.NEVER;
  }
  return ms;
});

/** One schedule as written in `schedules.yaml` or given as `schedule add` flags. */
export const scheduleInput = z.strictObject({
  name: z.string().regex(SCHEDULE_NAME, 'Expected 1-64 letters, digits, _ . or - (no spaces)'),
  cron: text,
  tz: text.default('UTC'),
  tags: z.array(text).default([]),
  group: text.optional(),
  query: text.optional(),
  devices: text.optional(),
  column: text.optional(),
  all: z.boolean().default(false),
  includeInactive: z.boolean().default(false),
  hunting: text.max(40_000).optional(),
  scanType: z.enum(SCAN_TYPES).default('Quick'),
  comment: text,
  tenant: z.string().regex(SCHEDULE_NAME, 'Expected a tenant name').default(DEFAULT_TENANT),
  priority: z.enum(PRIORITIES).default('background'),
  overlap: z.enum(OVERLAP_POLICIES).default('skip'),
  catchup: span.default(3_600_000),
  window: text.optional(),
  jitter: span.default(0),
  start: when.optional(),
  end: when.optional(),
  maxRuns: z.number().int().min(1).optional(),
});
export type ScheduleInput = z.input<typeof scheduleInput>;

/**
 * Validates one schedule definition and returns the spec to store. `where` names the source in
 * errors (`--cron`, `schedules.yaml: schedules[2]`); a relative `devices` path is resolved
 * against `baseDir` (the YAML file's folder, or the working directory for flags).
 */
export function buildScheduleSpec(input: unknown, where: string, baseDir: string): ScheduleSpec {
  const parsed = scheduleInput.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(schedule)'}: ${issue.message}`,
    );
    throw new ScheduleSpecError(`${where}: ${issues.join('; ')}`);
  }
  const s = parsed.data;
  const fail = (message: string): never => {
    throw new ScheduleSpecError(`${where} (${s.name}): ${message}`);
  };
  if (!isTimeZone(s.tz))
    fail(`tz: unknown time zone "${s.tz}" (use an IANA name such as Europe/Berlin)`);
  try {
    checkCron(s.cron, s.tz);
  } catch (error) {
    if (error instanceof CronError) fail(`cron: ${error.message}`);
    throw error;
  }
  const targeted = s.tags.length > 0 || s.group !== undefined || s.query !== undefined;
  const kinds = [targeted, s.devices !== undefined, s.all, s.hunting !== undefined].filter(
    Boolean,
  ).length;
  if (kinds !== 1)
    fail('name the devices with exactly one of: tags/group/query, devices (a file), all, hunting');
  if (s.column !== undefined && s.devices === undefined) fail('column applies to devices only');
  if (s.includeInactive && (s.devices !== undefined || s.hunting !== undefined))
    fail('includeInactive applies to tags/group/query/all only');
  if (s.start !== undefined && s.end !== undefined && s.end <= s.start)
    fail('end must be after start');
  let window = null;
  if (s.window !== undefined) {
    try {
      window = parseWindow(s.window, s.tz);
    } catch (error) {
      if (error instanceof WindowError) fail(`window: ${error.message}`);
      throw error;
    }
  }
  const devices =
    s.devices === undefined
      ? null
      : isAbsolute(s.devices)
        ? s.devices
        : resolve(baseDir, s.devices);
  return {
    name: s.name,
    cron: s.cron.trim(),
    tz: s.tz,
    targets: {
      tags: s.tags,
      group: s.group ?? null,
      query: s.query ?? null,
      devices,
      column: s.column ?? null,
      all: s.all,
      includeInactive: s.includeInactive,
      ...(s.hunting === undefined ? {} : { hunting: s.hunting }),
    },
    scanType: s.scanType,
    comment: s.comment,
    tenant: s.tenant,
    priority: s.priority,
    overlap: s.overlap,
    catchupMs: s.catchup,
    window,
    jitterMs: s.jitter,
    startAt: s.start ?? null,
    endAt: s.end ?? null,
    maxRuns: s.maxRuns ?? null,
  };
}
