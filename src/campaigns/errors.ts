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
