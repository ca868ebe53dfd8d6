import { describe, expect, it } from 'vitest';
import { CampaignSchema } from '../../../src/api/campaign-schemas.js';
import { describeCampaigns } from '../../../src/api/campaign-view.js';
import type { Campaign } from '../../../src/campaigns/campaign.js';

const NOW = Date.UTC(2026, 11, 7, 14, 0, 0);

const campaign: Campaign = {
  id: 'c-abcdefabcdef',
  name: 'urgent sweep',
  scanType: 'Quick',
  comment: 'x [fleetscan:c-abcdefabcdef]',
  createdAt: NOW - 300_000,
  createdBy: 'ops',
  source: 'csv',
  tenant: 'gone',
  priority: 'urgent',
  window: null,
  schedule: null,
  state: 'running',
  finishedAt: null,
  total: 10,
  counts: { queued: 0, deferred: 1, requested: 9, failed: 0, cancelled: 0 },
  joinedExisting: 0,
  failuresByReason: {},
  deferrals: 1,
};

const noTenant = {
  get: (): never => {
    throw new Error('not configured');
  },
};

describe('campaigns as the API shows them', () => {
  it("carries a busy device's next retry (nextAttemptAt)", async () => {
    const at = NOW + 260_000;
    const [out] = await describeCampaigns([campaign], [campaign], {
      tenants: noTenant,
      now: NOW,
      nextAttempts: new Map([[campaign.id, { first: at, last: at, devices: 1 }]]),
    });
    expect(CampaignSchema.parse(out)).toMatchObject({
      nextAttemptAt: new Date(at).toISOString(),
    });
    const [none] = await describeCampaigns([campaign], [campaign], { tenants: noTenant, now: NOW });
    expect(none?.nextAttemptAt).toBeNull();
  });
});
