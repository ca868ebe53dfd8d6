/**
 * The Redis keys of one budget's line of waiting devices (docs/design.md "Lanes"). They carry
 * the budget's hash tag (`{budgetId:scope}`), so dispatch-n.lua touches one Redis Cluster slot.
 */
export interface LaneKeys {
  /** HASH campaignId -> class (or `p:` + class while paused); `~turn`, `~seq` counters. */
  campaigns: string;
  /** ZSET `campaignId.machineId` -> when a deferred device is due (ms). */
  due: string;
  /** ZSET `campaignId.machineId` -> lease end: devices a process is working on. */
  active: string;
  /** HASH `campaignId.machineId` -> failed attempts (5xx, network, a dead process). */
  tries: string;
  /** ZSET campaignId -> turn, one per class, highest class first. */
  roundRobin: readonly [urgent: string, normal: string, background: string];
  /** Prefix of a campaign's ready set (ZSET machineId -> order added; 0 = back in line). */
  readyPrefix: string;
  /** HASH: the budget's tenant-wide fault breaker (budget-breaker.ts); absent = not blocked. */
  breaker: string;
}

export function laneKeys(prefix: string, tag: string): LaneKeys {
  const base = `${prefix}:lane:${tag}`;
  return {
    campaigns: `${base}:campaigns`,
    due: `${base}:due`,
    active: `${base}:active`,
    tries: `${base}:tries`,
    roundRobin: [`${base}:rr:urgent`, `${base}:rr:normal`, `${base}:rr:background`],
    readyPrefix: `${base}:ready:`,
    breaker: `${base}:breaker`,
  };
}

/** The channel dispatchers listen on; the message is the budget's hash tag. */
export function wakeChannel(prefix: string): string {
  return `${prefix}:lanes:wake`;
}

/** Dispatch, finish and recovery name a device by this member (campaign ids have no dot). */
export function laneMember(campaignId: string, machineId: string): string {
  return `${campaignId}.${machineId}`;
}
