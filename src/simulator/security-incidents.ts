import type { SimMachine } from './fleet.js';

/**
 * A device an alert names: the fleet's device at an index, a machine id (in the fleet or not:
 * one Defender knew but the fleet no longer lists), or explicit evidence; `mdeDeviceId: null`
 * is a device that was never onboarded to Defender for Endpoint (Graph leaves the id null).
 */
export type EvidenceDeviceInput =
  number | string | { mdeDeviceId: string | null; deviceDnsName: string; osPlatform?: string };

export interface AlertInput {
  /** Default: `da` + digits, as Defender for Endpoint's alerts in Graph. */
  id?: string;
  title?: string;
  severity?: 'informational' | 'low' | 'medium' | 'high';
  /** Default: the simulator's start. */
  createdMs?: number;
  devices: readonly EvidenceDeviceInput[];
  /**
   * Whether the alert also carries file, process, user and IP evidence (default true). File and
   * process evidence carry an `mdeDeviceId` too, as in Graph, so only `deviceEvidence` names
   * the devices of an alert.
   */
  otherEvidence?: boolean;
}

export interface IncidentInput {
  /** Default: digits, as Graph's incident ids. */
  id?: string;
  displayName?: string;
  severity?: AlertInput['severity'];
  alerts: readonly AlertInput[];
}

/** One evidence item of an alert, as Graph returns it (`@odata.type` tells the kind). */
export type AlertEvidence = Record<string, unknown> & { '@odata.type': string };

/** An alert (Graph `microsoft.graph.security.alert`, the "v2" alerts), as Graph returns it. */
export interface GraphAlert {
  id: string;
  incidentId: string;
  title: string;
  severity: string;
  createdDateTime: string;
  evidence: AlertEvidence[];
  [field: string]: unknown;
}

/** An incident (Graph `microsoft.graph.security.incident`) without its alerts. */
export interface GraphIncident {
  id: string;
  displayName: string;
  createdDateTime: string;
  [field: string]: unknown;
}

export const DEVICE_EVIDENCE = '#microsoft.graph.security.deviceEvidence';

/**
 * Incidents, their alerts and the alerts' evidence: what `GET /security/incidents/{id}` and
 * `GET /security/alerts_v2/{id}` answer from (Microsoft Graph v1.0 "incident", "alert" and
 * "deviceEvidence" resource pages; see docs/mde-api.md).
 */
export class SecurityStore {
  private readonly incidents = new Map<string, GraphIncident>();
  private readonly alertsById = new Map<string, GraphAlert>();
  private readonly machines: readonly SimMachine[];
  private readonly byId: ReadonlyMap<string, SimMachine>;
  private readonly tenantId: string;
  private readonly startMs: number;
  private nextNumber = 1;

  constructor(machines: readonly SimMachine[], tenantId: string, startMs: number) {
    this.machines = machines;
    this.byId = new Map(machines.map((m) => [m.id, m]));
    this.tenantId = tenantId;
    this.startMs = startMs;
  }

  /** Adds an incident with its alerts; refuses an id already taken or a device it cannot name. */
  addIncident(input: IncidentInput): GraphIncident {
    const n = this.nextNumber++;
    const id = input.id ?? String(100_000 + n);
    if (this.incidents.has(id)) throw new Error(`incident ${id} exists already`);
    const created = Math.min(...input.alerts.map((a) => a.createdMs ?? this.startMs), this.startMs);
    const incident: GraphIncident = {
      id,
      tenantId: this.tenantId,
      status: 'active',
      incidentWebUrl: `https://security.microsoft.com/incidents/${id}?tid=${this.tenantId}`,
      redirectIncidentId: null,
      displayName: input.displayName ?? `Multi-stage incident ${id}`,
      createdDateTime: new Date(created).toISOString(),
      lastUpdateDateTime: new Date(created).toISOString(),
      assignedTo: null,
      classification: 'unknown',
      determination: 'unknown',
      severity: input.severity ?? 'high',
      customTags: [],
      systemTags: [],
      description: null,
      summary: null,
      lastModifiedBy: 'Microsoft 365 Defender-AlertCorrelation',
      resolvingComment: null,
      comments: [],
    };
    this.incidents.set(id, incident);
    for (const alert of input.alerts) this.addAlert({ ...alert, incidentId: id });
    return incident;
  }

  /** Adds an alert to an incident (a new one of its own when `incidentId` is not given). */
  addAlert(input: AlertInput & { incidentId?: string }): GraphAlert {
    if (input.incidentId === undefined) {
      const incident = this.addIncident({ alerts: [] });
      return this.addAlert({ ...input, incidentId: incident.id });
    }
    if (!this.incidents.has(input.incidentId))
      throw new Error(`incident ${input.incidentId} does not exist`);
    const n = this.nextNumber++;
    const providerId = `${String(638_000_000_000_000_000n + BigInt(n))}_${String(-(n * 7919))}`;
    const id = input.id ?? `da${providerId}`;
    if (this.alertsById.has(id)) throw new Error(`alert ${id} exists already`);
    const at = new Date(input.createdMs ?? this.startMs).toISOString();
    const devices = input.devices.map((d) => this.deviceEvidence(d, at));
    const alert: GraphAlert = {
      id,
      providerAlertId: id.startsWith('da') ? id.slice(2) : id,
      incidentId: input.incidentId,
      status: 'new',
      severity: input.severity ?? 'medium',
      classification: null,
      determination: null,
      serviceSource: 'microsoftDefenderForEndpoint',
      detectionSource: 'antivirus',
      productName: 'Microsoft Defender for Endpoint',
      detectorId: 'e0da400f-affd-43ef-b1d5-afc2eb6f2756',
      tenantId: this.tenantId,
      title: input.title ?? "'Wacatac' malware was detected",
      description: 'Malware and unwanted software are undesirable applications.',
      recommendedActions: 'Run a full antivirus scan on the devices.',
      category: 'Malware',
      assignedTo: null,
      alertWebUrl: `https://security.microsoft.com/alerts/${id}?tid=${this.tenantId}`,
      incidentWebUrl: `https://security.microsoft.com/incidents/${input.incidentId}?tid=${this.tenantId}`,
      actorDisplayName: null,
      threatDisplayName: 'Trojan:Win32/Wacatac.B!ml',
      threatFamilyName: 'Wacatac',
      mitreTechniques: [],
      createdDateTime: at,
      lastUpdateDateTime: at,
      resolvedDateTime: null,
      firstActivityDateTime: at,
      lastActivityDateTime: at,
      comments: [],
      evidence:
        input.otherEvidence === false ? devices : [...devices, ...otherEvidence(devices, at, n)],
      systemTags: [],
    };
    this.alertsById.set(id, alert);
    return alert;
  }

  incident(id: string): GraphIncident | undefined {
    return this.incidents.get(id);
  }

  alert(id: string): GraphAlert | undefined {
    return this.alertsById.get(id);
  }

  /** Every alert, oldest first; `incidentId` narrows to one incident's. */
  alerts(incidentId?: string): GraphAlert[] {
    const all = [...this.alertsById.values()];
    return incidentId === undefined ? all : all.filter((a) => a.incidentId === incidentId);
  }

  private deviceEvidence(input: EvidenceDeviceInput, at: string): AlertEvidence {
    const machine =
      typeof input === 'number'
        ? this.machines[input]
        : typeof input === 'string'
          ? this.byId.get(input)
          : undefined;
    if (typeof input === 'number' && !machine)
      throw new Error(
        `evidence device ${String(input)}: the fleet has ${String(this.machines.length)} devices`,
      );
    const common = {
      '@odata.type': DEVICE_EVIDENCE,
      createdDateTime: at,
      verdict: 'suspicious',
      remediationStatus: 'none',
      remediationStatusDetails: null,
      roles: [],
      detailedRoles: [],
      tags: [],
      loggedOnUsers: [],
      ipInterfaces: [],
      vmMetadata: null,
      defenderAvStatus: 'updated',
      ntDomain: null,
      dnsDomain: null,
    };
    if (machine) {
      return {
        ...common,
        firstSeenDateTime: machine['firstSeen'] ?? null,
        mdeDeviceId: machine.id,
        azureAdDeviceId: machine['aadDeviceId'] ?? null,
        deviceDnsName: machine.computerDnsName,
        hostName: machine.computerDnsName.split('.')[0] ?? machine.computerDnsName,
        osPlatform: machine.osPlatform,
        osBuild: machine['osBuild'] ?? null,
        version: machine['version'] ?? null,
        healthStatus: machine.healthStatus.toLowerCase(),
        riskScore:
          typeof machine['riskScore'] === 'string' ? machine['riskScore'].toLowerCase() : 'none',
        rbacGroupId: machine.rbacGroupId ?? 0,
        rbacGroupName: machine.rbacGroupName,
        onboardingStatus: machine.onboardingStatus.toLowerCase(),
        lastIpAddress: machine['lastIpAddress'] ?? null,
        lastExternalIpAddress: machine['lastExternalIpAddress'] ?? null,
      };
    }
    const explicit = typeof input === 'object' ? input : undefined;
    const mdeDeviceId = explicit ? explicit.mdeDeviceId : (input as string);
    const dns =
      explicit?.deviceDnsName ?? `unknown-${(mdeDeviceId ?? '').slice(0, 8)}.contoso.local`;
    return {
      ...common,
      firstSeenDateTime: null,
      mdeDeviceId,
      azureAdDeviceId: null,
      deviceDnsName: dns,
      hostName: dns.split('.')[0] ?? dns,
      osPlatform: explicit?.osPlatform ?? 'Unknown',
      osBuild: null,
      version: null,
      healthStatus: 'unknownFutureValue',
      riskScore: 'none',
      rbacGroupId: 0,
      rbacGroupName: null,
      onboardingStatus: mdeDeviceId === null ? 'canBeOnboarded' : 'onboarded',
      lastIpAddress: null,
      lastExternalIpAddress: null,
    };
  }
}

/**
 * File, process, user and IP evidence beside the devices. File and process evidence carry an
 * `mdeDeviceId` of their own (the device they were seen on, here the first), as Graph's do: the
 * devices of an alert are its `deviceEvidence`, not every item with a device id.
 */
function otherEvidence(devices: readonly AlertEvidence[], at: string, n: number): AlertEvidence[] {
  const first = devices[0]?.['mdeDeviceId'] ?? null;
  const base = {
    createdDateTime: at,
    verdict: 'malicious',
    remediationStatus: 'none',
    roles: [],
    tags: [],
  };
  const sha256 = n.toString(16).padStart(64, 'f');
  return [
    {
      '@odata.type': '#microsoft.graph.security.fileEvidence',
      ...base,
      detectionStatus: 'detected',
      mdeDeviceId: first,
      fileDetails: {
        sha1: sha256.slice(0, 40),
        sha256,
        fileName: 'invoice.pdf.exe',
        filePath: 'C:\\Users\\Public\\Downloads',
        fileSize: 183_296,
        filePublisher: null,
        signer: null,
        issuer: null,
      },
    },
    {
      '@odata.type': '#microsoft.graph.security.processEvidence',
      ...base,
      processId: 4100 + n,
      processCommandLine: 'invoice.pdf.exe /silent',
      processCreationDateTime: at,
      parentProcessId: 812,
      detectionStatus: 'detected',
      mdeDeviceId: first,
    },
    {
      '@odata.type': '#microsoft.graph.security.userEvidence',
      ...base,
      verdict: 'suspicious',
      userAccount: {
        accountName: 'jdoe',
        domainName: 'CONTOSO',
        userSid: 'S-1-5-21-1180699209-877415012-3182924384-1004',
        azureAdUserId: null,
        userPrincipalName: 'jdoe@contoso.example',
        displayName: 'J. Doe',
      },
    },
    {
      '@odata.type': '#microsoft.graph.security.ipEvidence',
      ...base,
      verdict: 'suspicious',
      ipAddress: '198.51.100.23',
      countryLetterCode: 'NL',
    },
  ];
}
