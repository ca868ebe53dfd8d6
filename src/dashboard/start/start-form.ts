import { PRIORITIES, type DispatchWindow, type Priority } from '../../campaigns/campaign.js';
import { SCAN_TYPES, type ScanType } from '../../defender/machine-action.js';
import { parseWindowFlag, WindowError } from '../../schedules/dispatch-window.js';

/**
 * Where the devices come from, as `fleetscan scan` offers it: a list (pasted or a CSV, text, JSON
 * or NDJSON file, sent as the request body), List Machines by query, tags, group or all, or
 * evidence read through Graph: an advanced hunting query (its KQL is the request body), an
 * incident or an alert (`scan --hunting/--hunting-file/--incident/--alert`).
 */
export const START_SOURCES = [
  'list',
  'query',
  'tag',
  'group',
  'all',
  'hunting',
  'incident',
  'alert',
] as const;
export type StartSourceKind = (typeof START_SOURCES)[number];

/** The new-campaign form, checked: what `previewStart` and `start` take. */
export interface StartForm {
  source: StartSourceKind;
  /** The uploaded file's name (format hint, shown as `file:<name>`), or `pasted`. */
  file: string;
  column: string | undefined;
  query: string | undefined;
  tags: string[];
  group: string | undefined;
  includeInactive: boolean;
  /** `incident` or `alert`: its id as the Defender portal shows it (checked when opened). */
  evidenceId: string | undefined;
  tenant: string;
  priority: Priority;
  scanType: ScanType;
  window: DispatchWindow | null;
  comment: string;
  name: string | undefined;
}

/** A form field that is missing or wrong; `field` is the form's own name for it. */
export class StartFormError extends Error {
  override name = 'StartFormError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

type Fields = Readonly<Record<string, unknown>>;

function text(fields: Fields, key: string, max: number): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new StartFormError(key, 'given more than once');
  const trimmed = value.trim();
  if (trimmed.length > max) throw new StartFormError(key, `longer than ${String(max)} characters`);
  return trimmed === '' ? undefined : trimmed;
}

function oneOf<T extends string>(
  fields: Fields,
  key: string,
  allowed: readonly T[],
  fallback?: T,
): T {
  const value = text(fields, key, 64) ?? fallback;
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw new StartFormError(
      key,
      `${value === undefined ? 'required' : `"${value}" is not one`}; choose ${allowed.join(', ')}`,
    );
  }
  return found;
}

/**
 * Checks the form's fields (the query string of the preview and start requests) with the rules
 * of `fleetscan scan`: a comment (the API requires one), a configured tenant (chosen for you when
 * there is only one), a class, a scan type, a window `HH:MM-HH:MM ZONE`, and what each source
 * needs. Throws StartFormError naming the field.
 */
export function parseStartForm(fields: Fields, tenants: readonly string[]): StartForm {
  const source = oneOf(fields, 'source', START_SOURCES);
  const comment = text(fields, 'comment', 1_000);
  if (comment === undefined)
    throw new StartFormError('comment', 'required (recorded with every MachineAction)');
  const tenant = text(fields, 'tenant', 64) ?? (tenants.length === 1 ? tenants[0] : undefined);
  if (tenant === undefined || !tenants.includes(tenant)) {
    throw new StartFormError(
      'tenant',
      `${tenant === undefined ? 'required' : `"${tenant}" is not configured`}; tenants: ${tenants.join(', ')}`,
    );
  }
  const windowText = text(fields, 'window', 100);
  let window: DispatchWindow | null = null;
  try {
    window = windowText === undefined ? null : parseWindowFlag(windowText, 'UTC');
  } catch (error) {
    if (error instanceof WindowError) throw new StartFormError('window', error.message);
    throw error;
  }
  const tags = (text(fields, 'tags', 10_000) ?? '')
    .split(/[\n,]/)
    .map((t) => t.trim())
    .filter(Boolean);
  const form: StartForm = {
    source,
    file: text(fields, 'file', 255) ?? 'pasted',
    column: text(fields, 'column', 200),
    query: text(fields, 'query', 4_000),
    tags,
    group: text(fields, 'group', 200),
    includeInactive: fields['includeInactive'] === '1' || fields['includeInactive'] === 'on',
    evidenceId: text(fields, source === 'alert' ? 'alert' : 'incident', 200),
    tenant,
    priority: oneOf(fields, 'priority', PRIORITIES, 'normal'),
    scanType: oneOf(fields, 'scanType', SCAN_TYPES, 'Quick'),
    window,
    comment,
    name: text(fields, 'name', 200),
  };
  if (source === 'query' && form.query === undefined)
    throw new StartFormError('query', 'required: a List Machines $filter');
  if (source === 'tag' && tags.length === 0)
    throw new StartFormError('tags', 'required: one tag or more (a device carrying any of them)');
  if (source === 'tag' && tags.length > 50) throw new StartFormError('tags', 'at most 50');
  if (source === 'group' && form.group === undefined)
    throw new StartFormError('group', 'required: a device group (rbacGroupName)');
  if ((source === 'incident' || source === 'alert') && form.evidenceId === undefined)
    throw new StartFormError(
      source,
      `required: the ${source}'s id as the Defender portal shows it`,
    );
  return form;
}
