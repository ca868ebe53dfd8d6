import { parse as parseYaml } from 'yaml';
import { TOKEN_NAME, TOKEN_SCOPES, type TokenScope } from '../../api/tokens/token-store.js';
import { buildScheduleSpec, ScheduleSpecError } from '../../schedules/schedule-spec.js';
import type { ScheduleSpec } from '../../schedules/schedule.js';
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_FORMATS,
  type WebhookEventType,
  type WebhookFormat,
} from '../../webhooks/webhook-event.js';

/** A form field that cannot be used: `field` is the form's name for it, `message` what was wrong. */
export class AdminFormError extends Error {
  override name = 'AdminFormError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** A urlencoded form as the dashboard parses it: one string per name. */
export type FormBody = Record<string, unknown>;

const DAY_MS = 86_400_000;
/** The longest expiry offered: ten years is "never" in all but name. */
export const MAX_EXPIRY_DAYS = 3_650;
const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function text(body: FormBody, field: string): string {
  const value = body[field];
  return typeof value === 'string' ? value.trim() : '';
}

/** A checkbox named `${group}.${value}` was ticked (the form parser keeps one value per name). */
function ticked(body: FormBody, group: string, value: string): boolean {
  return body[`${group}.${value}`] !== undefined;
}

/** Comma- or space-separated tenant names; null (every tenant) when the field is empty. */
function tenantList(body: FormBody, field: string): string[] | null {
  const names = text(body, field)
    .split(/[\s,]+/)
    .filter(Boolean);
  if (names.length === 0) return null;
  const bad = names.find((n) => !TENANT_NAME.test(n));
  if (bad !== undefined) throw new AdminFormError(field, `"${bad}" is not a tenant name`);
  return [...new Set(names)];
}

export interface TokenForm {
  name: string;
  scopes: TokenScope[];
  tenants: string[] | null;
  /** ms since the epoch; null for never. */
  expiresAt: number | null;
}

/**
 * The new-token form: `name` (as `fleetscan token create --name`), `scope.read` / `scope.write`
 * (none ticked is read, as the CLI), `tenants`, and `expiresInDays` (empty for never).
 */
export function parseTokenForm(body: FormBody, now: number): TokenForm {
  const name = text(body, 'name');
  if (!TOKEN_NAME.test(name)) {
    throw new AdminFormError('name', 'expected 1-64 letters, digits, _ . @ or - (no spaces)');
  }
  const scopes = TOKEN_SCOPES.filter((s) => ticked(body, 'scope', s));
  const days = text(body, 'expiresInDays');
  let expiresAt: number | null = null;
  if (days !== '') {
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1 || n > MAX_EXPIRY_DAYS) {
      throw new AdminFormError(
        'expiresInDays',
        `expected a whole number of days from 1 to ${String(MAX_EXPIRY_DAYS)}, or empty for never`,
      );
    }
    expiresAt = now + n * DAY_MS;
  }
  return {
    name,
    scopes: scopes.length > 0 ? scopes : ['read'],
    tenants: tenantList(body, 'tenants'),
    expiresAt,
  };
}

export interface WebhookForm {
  url: string;
  events: WebhookEventType[];
  format: WebhookFormat;
  tenant: string | null;
}

/**
 * The new-subscription form: `url`, one `event.<type>` checkbox per event, `format` and an
 * optional `tenant`. Only the shape is checked here; the receiver itself goes through the
 * webhook destination guard, as the API's subscriptions do.
 */
export function parseWebhookForm(body: FormBody): WebhookForm {
  const url = text(body, 'url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AdminFormError('url', url === '' ? 'a receiver URL is needed' : 'not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new AdminFormError('url', 'expected an https URL');
  }
  if (url.length > 2_000) throw new AdminFormError('url', 'longer than 2000 characters');
  const events = WEBHOOK_EVENT_TYPES.filter((e) => ticked(body, 'event', e));
  if (events.length === 0) throw new AdminFormError('events', 'tick at least one event');
  const format = text(body, 'format') || 'json';
  const known = WEBHOOK_FORMATS.find((f) => f === format);
  if (!known) {
    throw new AdminFormError('format', `expected one of ${WEBHOOK_FORMATS.join(', ')}`);
  }
  const tenants = tenantList(body, 'tenant');
  if (tenants !== null && tenants.length > 1) {
    throw new AdminFormError('tenant', 'one tenant, or empty for every tenant');
  }
  return { url, events, format: known, tenant: tenants?.[0] ?? null };
}

/**
 * The new-schedule form: one entry in the YAML of a `schedules.yaml` list item (the keys
 * `schedule add` takes, e.g. `name`, `cron`, `tz`, `tags`, `comment`), checked by the same
 * parser as the CLI. A `devices` file path is resolved against `baseDir` (the dashboard's
 * working directory, as for `schedule add --devices`).
 */
export function parseScheduleForm(body: FormBody, baseDir: string): ScheduleSpec {
  const source = typeof body['yaml'] === 'string' ? body['yaml'] : '';
  if (source.trim() === '') throw new AdminFormError('yaml', 'the schedule definition is empty');
  let entry: unknown;
  try {
    entry = parseYaml(source);
  } catch (error) {
    throw new AdminFormError('yaml', `not valid YAML: ${(error as Error).message}`);
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new AdminFormError('yaml', 'expected one schedule as YAML keys (name: …, cron: …)');
  }
  try {
    return buildScheduleSpec(entry, 'schedule', baseDir);
  } catch (error) {
    if (error instanceof ScheduleSpecError) {
      // `schedule: cron: …` and `schedule (nightly): …` as `yaml: cron: …`, `yaml: schedule nightly: …`.
      const message = error.message
        .replace(/^schedule:\s*/, '')
        .replace(/^schedule \(([^)]*)\):/, 'schedule $1:');
      throw new AdminFormError('yaml', message);
    }
    throw error;
  }
}
