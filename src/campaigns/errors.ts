/** A campaign id that is not in the store. */
export class UnknownCampaignError extends Error {
  override name = 'UnknownCampaignError';
  readonly campaignId: string;
  constructor(campaignId: string) {
    super(`No campaign ${campaignId} (see \`fleetscan status\` for the list)`);
    this.campaignId = campaignId;
  }
}

/** A device that is not part of the campaign (a job without a record). */
export class UnknownDeviceError extends Error {
  override name = 'UnknownDeviceError';
  readonly campaignId: string;
  readonly machineId: string;
  constructor(campaignId: string, machineId: string) {
    super(`Device ${machineId} is not part of campaign ${campaignId}`);
    this.campaignId = campaignId;
    this.machineId = machineId;
  }
}

/**
 * A device may not be called yet: its campaign's records may be incomplete (a re-run, a Redis
 * restart or rollback) and its actions must be looked up first. Retryable once that is done.
 */
export class ReconcilePendingError extends Error {
  override name = 'ReconcilePendingError';
  readonly campaignId: string;
  readonly retryable = true;
  constructor(campaignId: string) {
    super(
      `Campaign ${campaignId} must look up its existing actions before calling again (its records may be incomplete)`,
    );
    this.campaignId = campaignId;
  }
}
