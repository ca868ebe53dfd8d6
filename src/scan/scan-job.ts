/**
 * BullMQ job data: nothing. The job id names the campaign and the device and the campaign store
 * holds the rest, so a waiting job costs Redis no bytes twice.
 */
export type ScanJobData = Record<string, never>;

export interface ScanJobIds {
  campaignId: string;
  machineId: string;
}

/** The one queue every campaign shares (BullMQ `prefix` = `config.redis.prefix`). */
export const SCAN_QUEUE_NAME = 'scans';
export const SCAN_JOB_NAME = 'scan';

/** BullMQ forbids `:` in custom job ids, hence the dot (campaign ids have none). */
export function scanJobId(campaignId: string, machineId: string): string {
  return `${campaignId}.${machineId}`;
}

/** The campaign and device a job is for, read back from its id. */
export function parseScanJobId(jobId: string | undefined): ScanJobIds {
  const dot = jobId?.indexOf('.') ?? -1;
  if (jobId === undefined || dot <= 0 || dot === jobId.length - 1) {
    throw new Error(`Not a scan job id (campaign.machine): ${JSON.stringify(jobId)}`);
  }
  return { campaignId: jobId.slice(0, dot), machineId: jobId.slice(dot + 1) };
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
