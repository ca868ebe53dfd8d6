import type { ScheduleTargets } from './schedule.js';

/** `tag:Servers group:Finance`, `file:/srv/ids.csv` or `all`: how a campaign names its source. */
export function describeTargetsOf(t: ScheduleTargets): string {
  if (t.all) return 'all';
  if (t.devices !== null) return `file:${t.devices}`;
  return [
    t.query === null ? '' : `query:${t.query}`,
    t.tags.length === 0 ? '' : `tag:${t.tags.join(',')}`,
    t.group === null ? '' : `group:${t.group}`,
  ]
    .filter(Boolean)
    .join(' ');
}
