import type { ReportData } from './report-data.js';

/**
 * How far the campaign's scans are proved by the devices' own events (`fleetscan verify`):
 * `proved` when every scan is, `verified` when every one was checked but some are not proved.
 */
export type ProofVerdict =
  'no-actions' | 'not-verified' | 'partly-verified' | 'verified' | 'proved';

export interface ReportHeadline {
  /** One line on how the campaign ended, when that is not the plain finish (cancelled, running). */
  state: string | null;
  /** What the kill switch did, for a cancelled campaign or one whose actions were cancelled. */
  killSwitch: string | null;
  verdict: ProofVerdict;
  /** The proof line: never "proved" for what nobody checked. */
  proof: string;
}

const n = (value: number): string => value.toLocaleString('en-US');
const plural = (count: number, one: string, many = `${one}s`): string =>
  `${n(count)} ${count === 1 ? one : many}`;

/** The verdict alone, for the headline and the proof table. */
export function proofVerdict(data: ReportData): ProofVerdict {
  const p = data.proof;
  if (p.withAction === 0) return 'no-actions';
  if (p.verifiedAt === null) return 'not-verified';
  if (p.unverified > 0) return 'partly-verified';
  return p.completed === p.withAction ? 'proved' : 'verified';
}

/** `92 without evidence, 3 failed on the device`: why the rest is not proved. */
function unproved(data: ReportData): string {
  const p = data.proof;
  return [
    [p.noEvidence, 'without evidence'],
    [p.failed, 'failed on the device'],
    [p.cancelled, 'cancelled on the device'],
    [p.ambiguous, 'ambiguous'],
  ]
    .filter(([count]) => Number(count) > 0)
    .map(([count, what]) => `${n(Number(count))} ${String(what)}`)
    .join(', ');
}

function proofLine(data: ReportData, verdict: ProofVerdict): string {
  const p = data.proof;
  switch (verdict) {
    case 'no-actions':
      return 'Nothing to prove: no scan was requested';
    case 'not-verified':
      return `Not verified: ${plural(p.withAction, 'scan')} requested, none checked against the devices' events (run fleetscan verify)`;
    case 'partly-verified':
      return `Partly verified: ${n(p.completed)} of ${n(p.withAction)} proved complete, ${n(p.unverified)} not checked yet`;
    case 'verified':
      return `Proved complete: ${n(p.completed)} of ${n(p.withAction)} (${unproved(data)})`;
    case 'proved':
      return `Proved complete: ${n(p.completed)} of ${n(p.withAction)}`;
  }
}

/** What the kill switch did, or null when it was never pressed for this campaign. */
function killSwitchLine(data: ReportData): string | null {
  const { cancelled, alreadyFinal, refused } = data.cancels;
  if (cancelled + alreadyFinal + refused === 0) {
    return data.campaign.state === 'cancelled'
      ? 'Kill switch not used: actions already requested were left to run'
      : null;
  }
  return `Kill switch cancelled ${plural(cancelled, 'action')} in Defender (${n(alreadyFinal)} already finished, ${n(refused)} refused)`;
}

/** How the campaign ended, in one line, when it did not simply finish. */
function stateLine(data: ReportData): string | null {
  const c = data.campaign;
  const requested = data.outcomes['requested'] ?? 0;
  const devices = data.targets.devices;
  if (c.state === 'cancelled') {
    const never = devices - requested - (data.outcomes['failed'] ?? 0);
    return `Cancelled${c.finishedAt ? ` at ${c.finishedAt}` : ''}: ${n(requested)} of ${n(devices)} devices got a scan request, ${n(never)} never did`;
  }
  if (c.state === 'running' || c.state === 'paused') {
    return `Still ${c.state}: ${n(requested)} of ${n(devices)} devices have a scan request so far`;
  }
  return null;
}

/**
 * The report's headline from the campaign's state and its proof: a cancelled, never-verified
 * campaign reads "Cancelled" and "Not verified", never "Proved complete: 0 of 87".
 */
export function reportHeadline(data: ReportData): ReportHeadline {
  const verdict = proofVerdict(data);
  return {
    state: stateLine(data),
    killSwitch: killSwitchLine(data),
    verdict,
    proof: proofLine(data, verdict),
  };
}
