import { describe, expect, it } from 'vitest';
import {
  CLOCK_SLACK_MS,
  findOwnAction,
  isOwnAction,
  scanActionsFilter,
} from '../../../src/tracking/find-own-action.js';
import { action, CAMPAIGN_ID, fakeClient, MACHINE_ID } from '../scan/fakes.js';

describe('findOwnAction', () => {
  it('asks for the scan actions of one device since the campaign began, with clock slack', () => {
    expect(scanActionsFilter(1_800_000_000_000, MACHINE_ID)).toEqual({
      machineId: MACHINE_ID,
      type: 'RunAntiVirusScan',
      createdSince: 1_800_000_000_000 - CLOCK_SLACK_MS,
    });
  });

  it('recognises its own actions by the campaign id in the comment', () => {
    expect(
      isOwnAction({ requestorComment: `weekly [fleetscan:${CAMPAIGN_ID}]` }, CAMPAIGN_ID),
    ).toBe(true);
    expect(
      isOwnAction({ requestorComment: 'weekly [fleetscan:c-000000000000]' }, CAMPAIGN_ID),
    ).toBe(false);
    expect(isOwnAction({ requestorComment: null }, CAMPAIGN_ID)).toBe(false);
  });

  it('matches only the exact trailing tag, not a comment that mentions the campaign id', () => {
    // A newer campaign whose operator wrote the older campaign's id in its comment.
    const newer = `re-run of ${CAMPAIGN_ID} [fleetscan:c-111111111111]`;
    expect(isOwnAction({ requestorComment: newer }, CAMPAIGN_ID)).toBe(false);
    expect(isOwnAction({ requestorComment: newer }, 'c-111111111111')).toBe(true);
    expect(
      isOwnAction({ requestorComment: `x [fleetscan:${CAMPAIGN_ID}] and more` }, CAMPAIGN_ID),
    ).toBe(false);
  });

  it('picks the earliest own action, so every attempt records the same one', async () => {
    const { client } = fakeClient(
      () => Promise.reject(new Error('unused')),
      [
        action({ id: 'later', creationDateTimeUtc: '2027-01-15T08:00:05Z' }),
        action({
          id: 'someone-else',
          creationDateTimeUtc: '2027-01-15T07:00:00Z',
          requestorComment: 'manual',
        }),
        action({
          id: 'other-type',
          type: 'CollectInvestigationPackage',
          creationDateTimeUtc: '2027-01-15T07:00:00Z',
        }),
        action({ id: 'first', creationDateTimeUtc: '2027-01-15T08:00:00Z' }),
      ],
    );
    const found = await findOwnAction(client, {
      campaignId: CAMPAIGN_ID,
      machineId: MACHINE_ID,
      since: 0,
    });
    expect(found?.id).toBe('first');
  });

  it('compares creation times as instants, whatever their fractional digits', async () => {
    const { client } = fakeClient(
      () => Promise.reject(new Error('unused')),
      [
        action({ id: 'later', creationDateTimeUtc: '2027-01-15T08:00:00.5Z' }),
        action({ id: 'first', creationDateTimeUtc: '2027-01-15T08:00:00Z' }),
      ],
    );
    const found = await findOwnAction(client, {
      campaignId: CAMPAIGN_ID,
      machineId: MACHINE_ID,
      since: 0,
    });
    expect(found?.id).toBe('first');
  });

  it('finds nothing when no action of this campaign exists', async () => {
    const { client } = fakeClient(
      () => Promise.reject(new Error('unused')),
      [action({ requestorComment: 'manual' })],
    );
    await expect(
      findOwnAction(client, { campaignId: CAMPAIGN_ID, machineId: MACHINE_ID, since: 0 }),
    ).resolves.toBeNull();
  });
});
