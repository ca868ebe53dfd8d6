import { z } from 'zod';
import { CAMPAIGN_STATES, DEVICE_STATES, PRIORITIES } from '../campaigns/campaign.js';
import { SCAN_TYPES } from '../defender/machine-action.js';

export const CampaignIdParams = z.object({
  id: z.string().regex(/^c-[a-z0-9]{12}$/, 'Expected a campaign id such as c-mhx1y2z3a1b2'),
});

const isoTime = z.string().describe('ISO 8601 time (UTC)');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Expected HH:MM (24 h)');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const WindowSchema = z.object({
  start: hhmm,
  end: hhmm,
  tz: z.string().refine(isTimeZone, 'Expected an IANA time zone such as Europe/Berlin'),
});

/** Everything but the devices: shared by JSON bodies and NDJSON query strings. */
const campaignOptions = {
  tenant: z.string().min(1).max(64).optional().describe('default: `default`'),
  priority: z.enum(PRIORITIES).optional().describe('default: normal'),
  scanType: z.enum(SCAN_TYPES).optional().describe('default: Quick'),
  comment: z.string().trim().min(1).max(1_000).describe('Recorded with every MachineAction'),
  name: z.string().trim().min(1).max(200).optional(),
  window: WindowSchema.nullable().optional(),
};

export const CreateCampaignBody = z
  .object({
    ...campaignOptions,
    devices: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('Machine ids (40 hex); any id that is not one refuses the whole request'),
    query: z.string().min(1).max(4_000).optional().describe('List Machines $filter'),
    tags: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
    group: z.string().min(1).max(200).optional().describe('Device group (rbacGroupName)'),
    includeInactive: z.boolean().optional(),
    hunting: z
      .string()
      .min(1)
      .max(40_000)
      .optional()
      .describe(
        'Advanced hunting query (KQL) whose result has a DeviceId column: its distinct devices (Graph, ThreatHunting.Read.All)',
      ),
    incident: z
      .string()
      .regex(/^\d{1,19}$/, 'Expected an incident number such as 4711')
      .optional()
      .describe(
        "Defender XDR incident id: its alerts' device evidence (SecurityIncident.Read.All)",
      ),
    alert: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/, 'Expected an alert id such as da638000000000000001_-7919')
      .optional()
      .describe('Alert id (Graph alerts_v2): its device evidence (SecurityAlert.Read.All)'),
  })
  .refine(
    (body) =>
      [
        body.devices !== undefined,
        body.query !== undefined || body.tags !== undefined || body.group !== undefined,
        body.hunting !== undefined,
        body.incident !== undefined,
        body.alert !== undefined,
      ].filter(Boolean).length === 1,
    {
      message: 'Give exactly one source: devices, query/tags/group, hunting, incident or alert',
    },
  );
export type CreateCampaignInput = z.output<typeof CreateCampaignBody>;

/** Options of an NDJSON device list come in the query string (the body is the list). */
export const CreateCampaignQuery = z.object({
  tenant: campaignOptions.tenant,
  priority: campaignOptions.priority,
  scanType: campaignOptions.scanType,
  comment: z.string().max(1_000).optional().describe('Required with an NDJSON body'),
  name: campaignOptions.name,
  windowStart: hhmm.optional(),
  windowEnd: hhmm.optional(),
  windowTz: z.string().optional(),
});

const BudgetSchema = z.object({
  id: z.string(),
  windows: z.array(z.object({ cap: z.number(), windowMs: z.number(), used: z.number() })),
  pausedUntil: isoTime.nullable(),
});

export const CampaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.enum(CAMPAIGN_STATES),
    tenant: z.string(),
    priority: z.enum(PRIORITIES),
    scanType: z.enum(SCAN_TYPES),
    comment: z.string(),
    createdAt: isoTime,
    createdBy: z.string(),
    source: z.string(),
    finishedAt: isoTime.nullable(),
    window: WindowSchema.nullable(),
    schedule: z.string().nullable(),
    intakeOpen: z.boolean(),
    total: z.number().int(),
    counts: z.object({
      queued: z.number().int(),
      deferred: z.number().int(),
      requested: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
    joinedExisting: z.number().int(),
    deferrals: z.number().int(),
    failuresByReason: z.record(z.string(), z.number().int()),
    progress: z.object({
      settled: z.number().int(),
      remaining: z.number().int(),
      percent: z.number(),
    }),
    etaSeconds: z
      .number()
      .nullable()
      .describe(
        'Earliest finish under the remaining API budget, never before the last busy device is due; null when not running',
      ),
    nextAttemptAt: isoTime
      .nullable()
      .describe('When the next busy (deferred) or backing-off device is tried again; null: none'),
    budget: BudgetSchema.nullable(),
  })
  .describe('A campaign');
export type CampaignOut = z.input<typeof CampaignSchema>;

export const CreatedCampaignSchema = z
  .object({
    campaign: CampaignSchema,
    accepted: z.number().int(),
    duplicate: z.number().int(),
    skipped: z.record(z.string(), z.number().int()),
  })
  .describe('The campaign created (or the first answer, replayed for the same Idempotency-Key)');

export const CampaignListQuery = z.object({
  state: z.enum(CAMPAIGN_STATES).optional(),
  tenant: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('default 50'),
});

export const CampaignListSchema = z
  .object({ campaigns: z.array(CampaignSchema) })
  .describe('Campaigns, newest first');

export const DeviceSchema = z.object({
  machineId: z.string(),
  state: z.enum(DEVICE_STATES),
  machineActionId: z.string().nullable(),
  actionStatus: z.string().nullable(),
  reason: z.string().nullable(),
  attempts: z.number().int(),
  requestedAt: isoTime.nullable(),
  joinedExisting: z.boolean(),
  deferredUntil: isoTime.nullable(),
});

export const DeviceListQuery = z.object({
  state: z.enum(DEVICE_STATES).optional(),
  search: z
    .string()
    .regex(/^[0-9a-fA-F]{1,40}$/, 'Expected part of a machine id (hex)')
    .optional(),
  reason: z.string().min(1).max(200).optional().describe('Failure reason code (before the colon)'),
  cursor: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional().describe('default 100'),
});

export const DevicePageSchema = z
  .object({ devices: z.array(DeviceSchema), cursor: z.string().nullable() })
  .describe('One page of devices; pass `cursor` back for the next (null: no more)');

export const ExportQuery = z.object({
  format: z.enum(['csv', 'json', 'ndjson']).optional().describe('default ndjson'),
});

export const ControlResultSchema = z
  .object({
    campaignId: z.string(),
    previous: z.enum(CAMPAIGN_STATES),
    state: z.enum(CAMPAIGN_STATES),
    devicesCancelled: z.number().int(),
    devicesWithdrawn: z
      .number()
      .int()
      .describe('Waiting devices held in their lane (pause) or taken out of it (cancel)'),
    devicesQueued: z
      .number()
      .int()
      .describe('Waiting devices handed back to the dispatchers (resume)'),
    jobsRemoved: z
      .number()
      .int()
      .describe('Deprecated: the same as devicesWithdrawn; will be removed in 1.0.0'),
    jobsSubmitted: z
      .number()
      .int()
      .describe('Deprecated: the same as devicesQueued; will be removed in 1.0.0'),
    actions: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe('What the kill switch did (cancel with actions: true)'),
  })
  .describe('The campaign state before and after');

export const CancelBody = z
  .object({
    actions: z
      .boolean()
      .optional()
      .describe('Also cancel MachineActions already sent (the kill switch)'),
  })
  .optional();

export const RetryBody = z
  .object({ reason: z.string().min(1).max(200).optional().describe('Only this failure code') })
  .optional();

export const RetryResultSchema = z
  .object({
    campaignId: z.string(),
    requeued: z.number().int(),
    byReason: z.record(z.string(), z.number().int()),
    lookupFirst: z.number().int().describe('Requeued devices looked up before any new call'),
    devicesQueued: z.number().int().describe("Requeued devices put in the budget's lane"),
    jobsSubmitted: z
      .number()
      .int()
      .describe('Deprecated: the same as devicesQueued; will be removed in 1.0.0'),
    state: z.enum(CAMPAIGN_STATES),
    skipped: z
      .record(z.string(), z.number().int())
      .describe(
        'Failed devices left failed, per permanent code (OsPlatformNotSupported, …); name the code to retry them',
      ),
  })
  .describe('Failed devices handed back to the workers');
