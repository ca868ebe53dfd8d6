import { describe, expect, it } from 'vitest';
import {
  campaignCreatedAt,
  isCampaignId,
  newCampaignId,
} from '../../../src/campaigns/campaign-id.js';

describe('campaign ids', () => {
  it('give back the millisecond they were made in', () => {
    const at = Date.UTC(2026, 11, 1, 10, 0, 0, 123);
    const id = newCampaignId(at);
    expect(isCampaignId(id)).toBe(true);
    expect(campaignCreatedAt(id, at + 1_000)).toBe(at);
  });

  it('give no time for an id that is not ours or lies in the future', () => {
    expect(campaignCreatedAt('weekly-scan')).toBeNull();
    const later = newCampaignId(Date.UTC(2030, 0, 1));
    expect(campaignCreatedAt(later, Date.UTC(2026, 0, 1))).toBeNull();
  });
});
