import type { MachineAction } from '../defender/machine-action.js';
import type {
  Campaign,
  CampaignMeta,
  CampaignState,
  DeviceRecord,
  DeviceState,
} from './campaign.js';

export interface DevicePage {
  devices: DeviceRecord[];
  /** Pass back to get the next page; null when there is none. */
  cursor: string | null;
}

export interface ListDevicesOptions {
  state?: DeviceState | undefined;
  /** Substring of the machine id. */
  search?: string | undefined;
  cursor?: string | null | undefined;
  limit?: number | undefined;
}

/**
 * Where campaigns and their per-device outcomes live (Redis, compact: one small hash field a
 * device). Every transition is atomic and idempotent, and keeps the per-state counts exact.
 * Implemented by `redis-campaign-store.ts`; contract for the worker, CLI and dashboard.
 */
export interface CampaignStore {
  createCampaign(meta: CampaignMeta): Promise<void>;
  /** Adds devices as `queued`; ids already in the campaign are left as they are. Returns how many were new. */
  addDevices(campaignId: string, machineIds: readonly string[]): Promise<number>;
  getCampaign(campaignId: string): Promise<Campaign | null>;
  /** Newest first. */
  listCampaigns(): Promise<Campaign[]>;
  setCampaignState(campaignId: string, state: CampaignState): Promise<void>;

  getDevice(campaignId: string, machineId: string): Promise<DeviceRecord | null>;
  listDevices(campaignId: string, options?: ListDevicesOptions): Promise<DevicePage>;
  /** Streams every device, for export. */
  iterateDevices(campaignId: string): AsyncIterable<DeviceRecord>;

  /**
   * Before each call: attempts + 1 and the in-flight marker. Throws `ReconcilePendingError`
   * while the campaign's records may be incomplete (its actions must be looked up first).
   */
  markSent(campaignId: string, machineId: string, at: number): Promise<DeviceRecord>;
  /**
   * The read and the `markSent` of a device's turn in one step: null, and nothing changed, when
   * an earlier call of the device may have reached the API (its action is looked up first); the
   * device unchanged when it no longer waits; throws `UnknownDeviceError` when it is unknown.
   */
  markSentUnlessMaybeSent(
    campaignId: string,
    machineId: string,
    at: number,
  ): Promise<DeviceRecord | null>;
  /** The last send got an answer that created nothing (a 429): no lookup needed for it. */
  markAnswered(campaignId: string, machineId: string): Promise<DeviceRecord>;
  /** Idempotent: recording the same action twice changes nothing; a device keeps its first action. */
  markRequested(
    campaignId: string,
    machineId: string,
    action: Pick<MachineAction, 'id' | 'status' | 'creationDateTimeUtc'>,
    details: { joinedExisting: boolean; at: number },
  ): Promise<DeviceRecord>;
  markDeferred(
    campaignId: string,
    machineId: string,
    details: { until: number; at: number },
  ): Promise<DeviceRecord>;
  markQueued(campaignId: string, machineId: string): Promise<DeviceRecord>;
  markFailed(campaignId: string, machineId: string, reason: string): Promise<DeviceRecord>;
  markCancelled(campaignId: string, machineId: string): Promise<DeviceRecord>;
  /**
   * Bulk status refresh from one List MachineActions call: a device's `actionStatus` changes only
   * where the action id matches the one recorded for it. Returns how many devices changed.
   */
  updateActionStatuses(
    campaignId: string,
    actions: readonly Pick<MachineAction, 'id' | 'machineId' | 'status'>[],
  ): Promise<number>;
}
