import type { MachineAction } from '../defender/machine-action.js';
import type { MachineActionFilter } from '../defender/odata.js';
import { campaignIdOfComment } from './action-tag.js';

/** The part of the Defender client the lookup needs. */
export interface MachineActionLister {
  listMachineActions(filter?: MachineActionFilter): AsyncIterable<MachineAction>;
}

/**
 * Slack subtracted from the campaign's creation time in the filter: Microsoft stamps actions
 * with its own clock, ours may be behind. The campaign id in the comment keeps the match exact.
 */
export const CLOCK_SLACK_MS = 15 * 60_000;

/** Every antivirus scan action created since `since` (ms, minus the slack), optionally for one device. */
export function scanActionsFilter(since: number, machineId?: string): MachineActionFilter {
  return {
    ...(machineId ? { machineId } : {}),
    type: 'RunAntiVirusScan',
    createdSince: Math.max(0, since - CLOCK_SLACK_MS),
  };
}

/**
 * True when the action was requested by this campaign: its comment ends with this campaign's
 * exact tag ` [fleetscan:<id>]`. A comment that merely mentions a campaign id (an operator's
 * "re-run of c-…", a newer campaign naming an older one) is somebody else's action.
 */
export function isOwnAction(
  action: Pick<MachineAction, 'requestorComment'>,
  campaignId: string,
): boolean {
  return campaignIdOfComment(action.requestorComment) === campaignId;
}

/**
 * This campaign's scan action for one device, if an earlier attempt created one whose reply never
 * came back (lost reply, worker killed between the call and the record). One filtered list call;
 * the earliest match wins, so every attempt records the same action.
 */
export async function findOwnAction(
  client: MachineActionLister,
  query: { campaignId: string; machineId: string; since: number },
): Promise<MachineAction | null> {
  const own = await listOwnActions(client, query, query.machineId);
  return own.get(query.machineId) ?? null;
}

/**
 * This campaign's scan action per device (lowercase machine id), from one filtered, paged List
 * MachineActions pass: of one device, or of every device when `machineId` is not given. The
 * earliest match wins, so every reader records the same action.
 */
export async function listOwnActions(
  client: MachineActionLister,
  query: { campaignId: string; since: number },
  machineId?: string,
): Promise<Map<string, MachineAction>> {
  const own = new Map<string, MachineAction>();
  for await (const action of client.listMachineActions(scanActionsFilter(query.since, machineId))) {
    const device = action.machineId.toLowerCase();
    if (machineId !== undefined && device !== machineId) continue;
    if (action.type !== 'RunAntiVirusScan' || !isOwnAction(action, query.campaignId)) continue;
    const found = own.get(device);
    if (!found || createdAt(action) < createdAt(found)) own.set(device, action);
  }
  return own;
}

/** As a number: the API's timestamps vary in fractional digits, so text order is not time order. */
function createdAt(action: Pick<MachineAction, 'creationDateTimeUtc'>): number {
  const ms = Date.parse(action.creationDateTimeUtc);
  return Number.isNaN(ms) ? Infinity : ms;
}
