import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import type { CampaignStatus } from '../../../src/cli/commands/shared/campaign-status.js';
import {
  clockTime,
  describeWait,
  renderCampaign,
  renderProgress,
} from '../../../src/cli/commands/shared/render-status.js';

const NOW = Date.now();

const campaign: Campaign = {
  id: 'c-abcdefabcdef',
  name: 'urgent sweep',
  scanType: 'Quick',
  comment: 'urgent sweep [fleetscan:c-abcdefabcdef]',
  createdAt: NOW - 300_000,
  createdBy: 'ops',
  source: 'csv',
  tenant: 'contoso',
  priority: 'urgent',
  window: null,
  schedule: null,
  state: 'running',
  finishedAt: null,
  total: 100,
  counts: { queued: 0, deferred: 1, requested: 99, failed: 0, cancelled: 0 },
  joinedExisting: 0,
  failuresByReason: {},
  deferrals: 3,
};

const retryAt = new Date(NOW + 260_000).toISOString();

/** Issue 25: one busy device left, the budget has room, the device's retry is 4 min 20 s away. */
const busy: CampaignStatus = {
  campaign,
  actionsRecorded: 99,
  remaining: 1,
  done: false,
  budget: {
    id: 'commercial:t:a',
    family: 'scan',
    windows: [{ cap: 100, windowMs: 60_000, used: 0 }],
    pausedUntil: null,
  },
  eta: { remaining: 1, aheadInQueue: 0, ms: 260_000, at: retryAt, waitingFor: null },
  failedDevices: [],
  workers: [],
  noWorkers: false,
  nextAttemptAt: retryAt,
  devicesDue: 1,
};

describe('status while a busy device waits for its retry', () => {
  it('names the next retry and never says the ETA is now', () => {
    const text = renderCampaign(busy);
    expect(text).not.toMatch(/ETA now/);
    expect(text).toContain(`next retry ${clockTime(retryAt, NOW)} (1 device waiting)`);
    expect(text).toMatch(/deferred +1 +busy devices; 3 deferrals so far; next retry/);
    const line = renderProgress(busy);
    expect(line).toContain(`deferred 1, next retry ${clockTime(retryAt, NOW)} (1 device waiting)`);
    expect(line).toMatch(/running ETA 4m/);
    expect(line).not.toContain('ETA now');
  });

  it('says nothing of retries when no device waits for a time', () => {
    const text = renderCampaign({ ...busy, nextAttemptAt: null, devicesDue: 0 });
    expect(text).not.toContain('next retry');
  });
});

describe('a window held by the urgent reserve', () => {
  it('names the reserve, not just the window', () => {
    const until = new Date(NOW + 26_800).toISOString();
    expect(describeWait({ windowMs: 30_000, until, cap: 1_500, reserve: 100 }, NOW)).toBe(
      `waiting: urgent reserve 100 of 1,500/30s until ${clockTime(until, NOW)}`,
    );
    expect(describeWait({ windowMs: 3_600_000, until, cap: 1_500 }, NOW)).toBe(
      `waiting for the hour window until ${clockTime(until, NOW)}`,
    );
    const held: CampaignStatus = {
      ...busy,
      campaign: { ...campaign, priority: 'normal' },
      eta: {
        ...busy.eta!,
        waitingFor: { windowMs: 30_000, until, cap: 1_500, reserve: 100 },
      },
    };
    expect(renderProgress(held)).toContain('waiting: urgent reserve 100 of 1,500/30s');
  });
});

describe('status after verify', () => {
  const life = {
    settledAt: NOW - 60_000,
    trackingEndedAt: null,
    openAtEnd: null,
    lastTrackedAt: NOW - 60_000,
    verifiedAt: NOW,
    proof: { completed: 150, cancelled: 2, failed: 1, ambiguous: 3, 'no-evidence': 4 },
    cancels: { cancelled: 0, 'already-final': 0, refused: 0 },
  };
  it('says how many devices had detections, how many are not remediated, and where the list is', () => {
    const text = renderCampaign({
      ...busy,
      lifecycle: {
        ...life,
        findings: {
          devices: 12,
          detections: 19,
          unremediatedDevices: 5,
          alertedDevices: 4,
          checked: 160,
        },
      },
    });
    expect(text).toContain(
      'devices with detections: 12 of 160 (5 not remediated, 4 with new alerts; 19 detections): fleetscan export c-abcdefabcdef lists them',
    );
  });

  it('says none were found, and nothing before a verify looked', () => {
    const none = {
      devices: 0,
      detections: 0,
      unremediatedDevices: 0,
      alertedDevices: 0,
      checked: 160,
    };
    expect(renderCampaign({ ...busy, lifecycle: { ...life, findings: none } })).toContain(
      'devices with detections: none of 160 checked',
    );
    expect(renderCampaign({ ...busy, lifecycle: { ...life, findings: null } })).not.toContain(
      'detections',
    );
  });
});
