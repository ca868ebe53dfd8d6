import {
  actionDetections,
  alertEvidenceRows,
  detectionRow,
  scheduledDetections,
  type PlannedDetection,
} from './detections.js';
import { eventRow, scheduledScanRows } from './device-events.js';
import type { SimMachine } from './fleet.js';
import type { TableQuery } from './kql-subset.js';
import { mdeTimestamp } from './machine-actions.js';
import { DEVICE_EVIDENCE } from './security-incidents.js';
import type { SimContext } from './sim-context.js';

/** Hunting keeps 30 days of data (Microsoft Learn, "Microsoft Defender XDR advanced hunting API"). */
const RETENTION_MS = 30 * 86_400_000;

/** Every detection of `machine` that happened in `[fromMs, toMs]`, oldest first. */
export function machineDetections(
  ctx: Pick<SimContext, 'actions' | 'opts'>,
  machine: SimMachine,
  fromMs: number,
  toMs: number,
): PlannedDetection[] {
  const actions = ctx.actions.forMachine(machine.id);
  const scheduledTimes = scheduledScanRows(
    machine,
    ctx.opts.scheduledScans,
    ctx.opts.seed,
    fromMs,
    toMs,
  ).map((row) => Date.parse(row.Timestamp));
  return [
    ...actions.flatMap((a) => actionDetections(a, machine, ctx.opts.detections, ctx.opts.seed)),
    ...scheduledDetections(machine, scheduledTimes, actions, ctx.opts.detections, ctx.opts.seed),
  ]
    .filter((d) => d.atMs >= fromMs && d.atMs <= toMs)
    .sort((a, b) => a.atMs - b.atMs);
}

/**
 * The `AlertEvidence` rows of the Graph incidents' alerts (`SecurityStore`) that name device
 * `id` in their device evidence: the same alerts, seen from advanced hunting.
 */
function incidentAlertRows(
  ctx: Pick<SimContext, 'security'>,
  id: string,
  query: TableQuery,
  fromMs: number,
  now: number,
): Record<string, unknown>[] {
  if (query.entityType !== 'Machine') return [];
  return ctx.security.alerts().flatMap((alert) => {
    const at = Date.parse(alert.createdDateTime);
    const device = alert.evidence.find(
      (e) => e['@odata.type'] === DEVICE_EVIDENCE && e['mdeDeviceId'] === id,
    );
    if (!device || at < fromMs || at > now) return [];
    return [
      {
        Timestamp: mdeTimestamp(at),
        AlertId: alert.id,
        Title: alert.title,
        Categories: JSON.stringify([alert['category'] ?? 'Malware']),
        ServiceSource: 'Microsoft Defender for Endpoint',
        DetectionSource: 'Antivirus',
        EntityType: 'Machine',
        EvidenceRole: 'Impacted',
        DeviceId: id,
        DeviceName: device['deviceDnsName'] ?? '',
        FileName: '',
        SHA1: '',
      },
    ];
  });
}

/** The rows one table pipeline of a query selects, as of `now` (all columns; the caller projects). */
export function tableRows(
  ctx: Pick<SimContext, 'actions' | 'opts' | 'machines' | 'security'>,
  query: TableQuery,
  now: number,
): Record<string, unknown>[] {
  const fromMs = Math.max(query.sinceMs, now - RETENTION_MS);
  const rows: Record<string, unknown>[] = [];
  for (const id of query.deviceIds) {
    const machine = ctx.machines.get(id);
    if (query.table === 'AlertEvidence') {
      rows.push(...incidentAlertRows(ctx, id, query, fromMs, now));
      if (!machine) continue;
      // An alert's detection may precede the window while the alert itself falls in it (by
      // less than the quiet time: see `actionDetections`).
      const lookback = fromMs - ctx.opts.detections.quietMs;
      for (const d of machineDetections(ctx, machine, lookback, now)) {
        for (const row of alertEvidenceRows(d)) {
          const at = Date.parse(row['Timestamp'] ?? '');
          if (at >= fromMs && at <= now && row['EntityType'] === query.entityType) rows.push(row);
        }
      }
      continue;
    }
    for (const action of ctx.actions.forMachine(id)) {
      const evidence = action.evidence;
      if (!evidence || evidence.atMs > now || evidence.atMs < fromMs) continue;
      if (query.actionTypes.has(evidence.actionType)) rows.push({ ...eventRow(action, evidence) });
    }
    if (!machine) continue;
    if (query.actionTypes.has('AntivirusScanCompleted'))
      rows.push(
        ...scheduledScanRows(machine, ctx.opts.scheduledScans, ctx.opts.seed, fromMs, now).map(
          (row) => ({ ...row }),
        ),
      );
    if (query.actionTypes.has('AntivirusDetection'))
      rows.push(...machineDetections(ctx, machine, fromMs, now).map(detectionRow));
  }
  return rows;
}
