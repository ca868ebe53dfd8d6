/** Redis keys of the schedules (design.md, "Schedules"). */
export function scheduleKeys(prefix: string) {
  return {
    names: `${prefix}:schedules`,
    schedule: (name: string) => `${prefix}:schedule:${name}`,
    history: (name: string) => `${prefix}:schedule:${name}:history`,
    fires: `${prefix}:stats:schedule-fires`,
    lock: `${prefix}:lock:schedules`,
    fence: `${prefix}:lock:schedules:fence`,
  };
}
