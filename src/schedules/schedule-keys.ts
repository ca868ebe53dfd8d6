/**
 * Redis keys of the schedules (design.md, "Schedules"). All carry one hash tag, `{schedules}`:
 * the firing step (schedule-advance-4.lua) checks the lock and writes a schedule, its
 * history and the fire counts in one script, which a Redis Cluster allows within one slot only.
 * Schedules are few, so one slot is no hot spot.
 */
export function scheduleKeys(prefix: string) {
  const base = `${prefix}:{schedules}`;
  return {
    names: `${base}:names`,
    schedule: (name: string) => `${base}:schedule:${name}`,
    history: (name: string) => `${base}:schedule:${name}:history`,
    fires: `${base}:stats:fires`,
    lock: `${base}:lock`,
    fence: `${base}:lock:fence`,
  };
}
