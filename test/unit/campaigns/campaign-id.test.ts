import { describe, expect, it } from 'vitest';
import {
  campaignCreatedAt,
  isCampaignId,
  newCampaignId,
  scheduledCampaignId,
} from '../../../src/campaigns/campaign-id.js';

const PLANNED = Date.parse('2026-03-29T00:30:00Z');

describe('campaign ids', () => {
  it('draws new ids of the documented shape', () => {
    const ids = Array.from({ length: 200 }, () => newCampaignId());
    expect(ids.every(isCampaignId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives one planned run of a schedule the same id in every process', () => {
    const id = scheduledCampaignId('nightly', PLANNED);
    expect(isCampaignId(id)).toBe(true);
    expect(scheduledCampaignId('nightly', PLANNED)).toBe(id);
  });

  it('gives other planned times and other schedules other ids', () => {
    const ids = new Set<string>();
    for (let minute = 0; minute < 500; minute += 1) {
      for (const name of ['nightly', 'nightly-2', 'weekly-full', 'Nightly']) {
        ids.add(scheduledCampaignId(name, PLANNED + minute * 60_000));
      }
    }
    expect(ids.size).toBe(2000);
    expect([...ids].every(isCampaignId)).toBe(true);
  });

  it('give a scheduled run its planned instant as creation time', () => {
    expect(campaignCreatedAt(scheduledCampaignId('nightly', PLANNED), PLANNED + 1)).toBe(PLANNED);
  });

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
