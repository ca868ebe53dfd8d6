/**
 * The Redis keys of campaigns (docs/design.md "Queue, jobs, keys"). The braces make the campaign
 * id a Redis Cluster hash tag: every key of one campaign (these, and `:lifecycle`, `:calls`,
 * `:fences` built from `campaign`) is in one slot, so the campaign scripts run on a cluster,
 * and different campaigns spread over the slots.
 */
export function campaignKeys(prefix: string, campaignId: string) {
  const campaign = `${prefix}:campaign:{${campaignId}}`;
  return {
    /** hash: meta, `state`, `finishedAt`, `open` (intake open while present) */
    campaign,
    /** hash: machineId -> compact JSON record (device-codec.ts) */
    devices: `${campaign}:devices`,
    /** hash: state -> n, `joined`, `deferrals`, `fail:${reason}` -> n */
    counts: `${campaign}:counts`,
    /** hash: machineId -> host name, when the source had them (device-hostnames.ts) */
    hostnames: `${campaign}:hostnames`,
  };
}

/** ZSET of every campaign id, scored by createdAt. */
export function campaignIndexKey(prefix: string): string {
  return `${prefix}:campaigns`;
}
