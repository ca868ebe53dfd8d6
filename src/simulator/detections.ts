import { createHash } from 'node:crypto';
import { mdeTimestamp, type StoredAction } from './machine-actions.js';

/** What Defender Antivirus finds on the simulated devices (all draws hash the seed: no stream). */
export interface DetectionOptions {
  /** Share of scans that ran (reported an event) which find something (default 0.1). */
  share: number;
  /** Most detections one scan finds; each finding scan finds 1 to this many (default 3). */
  maxPerScan: number;
  /** Share of detections Defender remediated (quarantined or removed; default 0.6). */
  remediatedShare: number;
  /** Share of unremediated detections that raise an alert (default 0.7). */
  alertShare: number;
  /**
   * Share of scanned devices that also report detections of real-time protection unrelated to
   * the scan: one before the request, one after the scan's event plus `quietMs` (default 0.2).
   */
  noiseShare: number;
  /** Time after a requested scan's event with no noise on that device (ms, scaled; default 2 h). */
  quietMs: number;
}

export type DetectionCause = 'scan' | 'realtime' | 'scheduled';

/** One `AntivirusDetection` the simulator plans, with the alert it raised (if any). */
export interface PlannedDetection {
  machineId: string;
  computerDnsName: string;
  atMs: number;
  cause: DetectionCause;
  threatName: string;
  fileName: string;
  /** The whole path, file name included, as DeviceEvents rows are seen to carry it. */
  folderPath: string;
  sha1: string;
  sha256: string;
  remediated: boolean;
  alert: { id: string; atMs: number; title: string } | null;
}

const THREATS = [
  'Trojan:Win32/Wacatac.B!ml',
  'Backdoor:Win32/Bladabindi!ml',
  'HackTool:Win32/Mimikatz.D',
  'Trojan:Script/Wacatac.H!ml',
  'PUA:Win32/Presenoker',
  'Ransom:Win32/Sodinokibi.A',
  'Trojan:Win32/AgentTesla!ml',
  'Exploit:O97M/CVE-2017-11882.A',
] as const;
const FILES = ['invoice_0412.exe', 'setup.msi', 'm.exe', 'update.js', 'report.docm'] as const;
const FOLDERS = ['C:\\Users\\Public\\Downloads', 'C:\\ProgramData\\Temp', 'C:\\Windows\\Temp'];

function digest(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.join('|')).digest();
}

/** A unit fraction from a hash, for draws that need no shared random stream. */
function fraction(...parts: string[]): number {
  return digest(...parts).readUInt32BE(0) / 2 ** 32;
}

function pickOf<T>(items: readonly T[], ...parts: string[]): T {
  const item = items[Math.floor(fraction(...parts) * items.length)];
  if (item === undefined) throw new Error('pickOf() from an empty list');
  return item;
}

/** The family in a threat name (`Trojan:Win32/Wacatac.B!ml` → `Wacatac`), as alert titles use it. */
function familyOf(threatName: string): string {
  return /\/([^.!]+)/.exec(threatName)?.[1] ?? threatName;
}

/** One detection at `atMs`, every field drawn from `key`. */
function detection(
  device: { id: string; computerDnsName: string },
  seed: number,
  options: DetectionOptions,
  key: string,
  atMs: number,
  cause: DetectionCause,
  alertAtMs: number,
): PlannedDetection {
  const s = String(seed);
  const threatName = pickOf(THREATS, s, key, 'threat');
  const fileName = pickOf(FILES, s, key, 'file');
  const remediated = fraction(s, key, 'remediated') < options.remediatedShare;
  const alerted = !remediated && fraction(s, key, 'alert') < options.alertShare;
  const alertDigits = digest(s, key, 'alert-id').readUInt32BE(4);
  return {
    machineId: device.id,
    computerDnsName: device.computerDnsName,
    atMs,
    cause,
    threatName,
    fileName,
    folderPath: `${pickOf(FOLDERS, s, key, 'folder')}\\${fileName}`,
    sha1: createHash('sha1').update(`${s}|${key}|file`).digest('hex'),
    sha256: createHash('sha256').update(`${s}|${key}|file`).digest('hex'),
    remediated,
    alert: alerted
      ? {
          // Defender alert ids: `da` + digits, `_`, a signed number.
          id: `da${String(Math.floor(atMs) * 10_000)}_-${String(alertDigits)}`,
          atMs: alertAtMs,
          title: `An active '${familyOf(threatName)}' malware was detected`,
        }
      : null,
  };
}

/**
 * The detections of a requested scan (between its delivery and its event) and the real-time
 * noise around it, for an action whose scan ran. None for a scan that never reported.
 */
export function actionDetections(
  action: StoredAction,
  device: { id: string; computerDnsName: string },
  options: DetectionOptions,
  seed: number,
): PlannedDetection[] {
  const evidence = action.evidence;
  if (!evidence) return [];
  const s = String(seed);
  const delivered = action.transitions.find((t) => t.status === 'Succeeded')?.atMs;
  const startMs = Math.min(delivered ?? action.createdMs, evidence.atMs);
  const found: PlannedDetection[] = [];
  if (fraction(s, action.id, 'found') < options.share) {
    const count = 1 + Math.floor(fraction(s, action.id, 'count') * options.maxPerScan);
    for (let i = 0; i < count; i++) {
      const key = `${action.id}:${String(i)}`;
      const atMs =
        startMs + Math.round((0.1 + 0.8 * fraction(s, key, 'at')) * (evidence.atMs - startMs));
      // The alert follows the detection, still before the scan's own event.
      found.push(
        detection(device, seed, options, key, atMs, 'scan', Math.round((atMs + evidence.atMs) / 2)),
      );
    }
  }
  if (fraction(s, action.id, 'noise') < options.noiseShare) {
    // Before the request: up to an hour earlier (scaled as quietMs is: half of it at most).
    const before =
      action.createdMs - 1 - Math.round((fraction(s, action.id, 'before') * options.quietMs) / 2);
    found.push(
      detection(
        device,
        seed,
        options,
        `${action.id}:before`,
        before,
        'realtime',
        before + Math.round((action.createdMs - before) / 2),
      ),
    );
    const after =
      evidence.atMs +
      options.quietMs +
      Math.round(fraction(s, action.id, 'after') * options.quietMs);
    found.push(
      detection(device, seed, options, `${action.id}:after`, after, 'realtime', after + 1),
    );
  }
  return found;
}

/**
 * Detections of Defender's own scheduled scans (at `scanTimes`, one scan in `share` of them
 * finds something), except inside any requested scan's span from its request to its event plus
 * `quietMs`: the simulator keeps its noise out of the window fleetscan attributes to a campaign.
 */
export function scheduledDetections(
  device: { id: string; computerDnsName: string },
  scanTimes: readonly number[],
  actions: readonly StoredAction[],
  options: DetectionOptions,
  seed: number,
): PlannedDetection[] {
  const quiet = actions
    .filter((a) => a.evidence)
    .map((a) => [a.createdMs, (a.evidence?.atMs ?? a.createdMs) + options.quietMs] as const);
  return scanTimes
    .filter((t) => fraction(String(seed), device.id, String(t), 'scheduled') < options.share)
    .map((t) => t - 1)
    .filter((atMs) => !quiet.some(([from, to]) => atMs >= from && atMs <= to))
    .map((atMs) =>
      detection(
        device,
        seed,
        options,
        `${device.id}:scheduled:${String(atMs)}`,
        atMs,
        'scheduled',
        atMs + 1,
      ),
    );
}

/** The `DeviceEvents` row of a detection (the columns fleetscan may project, and SHA256). */
export function detectionRow(d: PlannedDetection): Record<string, string> {
  return {
    Timestamp: mdeTimestamp(d.atMs),
    DeviceId: d.machineId,
    DeviceName: d.computerDnsName,
    ActionType: 'AntivirusDetection',
    FileName: d.fileName,
    FolderPath: d.folderPath,
    SHA1: d.sha1,
    SHA256: d.sha256,
    AdditionalFields: JSON.stringify({
      ThreatName: d.threatName,
      WasRemediated: d.remediated,
      WasExecutingWhileDetected: false,
    }),
  };
}

/**
 * The `AlertEvidence` rows of a detection's alert: one per entity (the device, the file), both
 * with the device's id, as the table repeats an alert once per piece of evidence.
 */
export function alertEvidenceRows(d: PlannedDetection): Record<string, string>[] {
  const alert = d.alert;
  if (!alert) return [];
  const common = {
    Timestamp: mdeTimestamp(alert.atMs),
    AlertId: alert.id,
    Title: alert.title,
    Categories: '["Malware"]',
    ServiceSource: 'Microsoft Defender for Endpoint',
    DetectionSource: 'Antivirus',
    DeviceId: d.machineId,
    DeviceName: d.computerDnsName,
  };
  return [
    { ...common, EntityType: 'Machine', EvidenceRole: 'Impacted', FileName: '', SHA1: '' },
    { ...common, EntityType: 'File', EvidenceRole: 'Related', FileName: d.fileName, SHA1: d.sha1 },
  ];
}
