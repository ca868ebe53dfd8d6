import { describeTargets } from '../control/scan-sources.js';
import type { ScheduleTargets } from './schedule.js';

/** `tag:Servers group:Finance`, `file:/srv/ids.csv`, `hunting:<KQL>` or `all`: how a campaign names its source. */
export function describeTargetsOf(t: ScheduleTargets): string {
  if (t.devices !== null) return `file:${t.devices}`;
  if (t.hunting !== undefined) return `hunting:${t.hunting}`;
  return describeTargets(t);
}
