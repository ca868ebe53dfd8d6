import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import type { CampaignStatus } from '../../../src/cli/commands/shared/campaign-status.js';
import {
  describeBudget,
  renderCampaign,
  renderProgress,
} from '../../../src/cli/commands/shared/render-status.js';

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0);
const blocked = {
  reason: 'permission_missing',
  message: 'Defender API answered 403 Forbidden: lacks Machine.Scan. Grant the app Machine.Scan.',
  since: '2026-12-01T09:58:00.000Z',
  nextProbeAt: '2026-12-01T10:01:00.000Z',
  failedProbes: 2,
};

const campaign: Campaign = {
  id: 'c-abcdefabcdef',
  name: 'weekly',
  scanType: 'Quick',
  comment: 'weekly [fleetscan:c-abcdefabcdef]',
  createdAt: NOW - 300_000,
  createdBy: 'ops',
  source: 'csv',
  tenant: 'contoso',
  priority: 'normal',
  window: null,
  schedule: null,
  state: 'running',
  finishedAt: null,
  total: 10,
  counts: { queued: 10, deferred: 0, requested: 0, failed: 0, cancelled: 0 },
  joinedExisting: 0,
  failuresByReason: {},
  deferrals: 0,
};

const status: CampaignStatus = {
  campaign,
  actionsRecorded: 0,
  remaining: 10,
  done: false,
  budget: { id: 'commercial:t:a', family: 'scan', windows: [], pausedUntil: null, blocked },
  eta: { remaining: 10, aheadInQueue: 0, ms: 6_000, at: '', waitingFor: null },
  failedDevices: [],
  workers: [],
  noWorkers: false,
  nextAttemptAt: null,
  devicesDue: 0,
};

describe('status of a campaign whose tenant is blocked', () => {
  it('says blocked, why and the fix instead of an ETA', () => {
    const text = renderCampaign(status);
    expect(text).toContain(
      `no ETA: tenant contoso BLOCKED (permission_missing) since 2026-12-01T09:58:00.000Z, next probe 2026-12-01T10:01:00.000Z: ${blocked.message}`,
    );
    expect(text).not.toContain('ETA 6');
    expect(renderProgress(status)).toContain(
      'tenant BLOCKED (permission_missing), next probe 2026-12-01T10:01:00.000Z',
    );
    expect(describeBudget(status.budget, NOW)).toMatch(/; BLOCKED \(permission_missing\)$/);
  });
});
