/** BullMQ job data for one device of one campaign: ids only, the campaign store holds the rest. */
export interface ScanJobData {
  campaignId: string;
  machineId: string;
}

/** The one queue every campaign shares (BullMQ `prefix` = `config.redis.prefix`). */
export const SCAN_QUEUE_NAME = 'scans';
export const SCAN_JOB_NAME = 'scan';

/** BullMQ forbids `:` in custom job ids, hence the dot. */
export function scanJobId(campaignId: string, machineId: string): string {
  return `${campaignId}.${machineId}`;
}

/**
 * The part of a BullMQ `Job` the processor uses, so unit tests can pass a plain object.
 * `attemptsMade` counts failed attempts before this one (busy deferrals and rate limits spend none).
 */
export interface ScanJob {
  id?: string | undefined;
  data: ScanJobData;
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}
