import type { ScheduleSpec } from './schedule.js';

export interface ScheduleChange {
  name: string;
  action: 'create' | 'update' | 'remove';
  /** For updates: each changed field, before → after (JSON). */
  fields: { field: string; before: string; after: string }[];
}

/**
 * What `schedule apply` must do to make the stored schedules equal the file's: create what is
 * new, update what differs (field by field), remove what the file no longer has. Empty when
 * they already match, so applying the same file twice changes nothing.
 */
export function diffSchedules(
  stored: readonly ScheduleSpec[],
  wanted: readonly ScheduleSpec[],
): ScheduleChange[] {
  const before = new Map(stored.map((spec) => [spec.name, spec]));
  const after = new Map(wanted.map((spec) => [spec.name, spec]));
  const changes: ScheduleChange[] = [];
  for (const spec of wanted) {
    const old = before.get(spec.name);
    if (!old) {
      changes.push({ name: spec.name, action: 'create', fields: [] });
      continue;
    }
    const fields = (Object.keys(spec) as (keyof ScheduleSpec)[])
      .map((field) => ({
        field,
        before: JSON.stringify(old[field]),
        after: JSON.stringify(spec[field]),
      }))
      .filter((f) => f.before !== f.after);
    if (fields.length > 0) changes.push({ name: spec.name, action: 'update', fields });
  }
  for (const spec of stored) {
    if (!after.has(spec.name)) changes.push({ name: spec.name, action: 'remove', fields: [] });
  }
  return changes;
}
