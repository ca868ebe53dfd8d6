/**
 * The one list of `osPlatform` values that can run an antivirus scan (mde-api.md: Windows 10
 * 1709+, Windows 11, Windows Server, and with newer agents macOS and Linux). Others (Windows 7,
 * 8.1, Server 2008 R2, iOS, Android) answer 400 OsPlatformNotSupported, so they are skipped
 * before they cost a call.
 */
export const SCAN_CAPABLE_PLATFORMS = [
  'Windows10',
  'Windows11',
  'WindowsServer2012R2',
  'WindowsServer2016',
  'WindowsServer2019',
  'WindowsServer2022',
  'WindowsServer2025',
  'macOS',
  'Linux',
] as const;

const CAPABLE = new Set(SCAN_CAPABLE_PLATFORMS.map(fold));

/** Later Windows Server releases (2026 on) are assumed capable, like every release since 2016. */
const LATER_SERVER = /^windowsserver(20[2-9]\d)$/;

/** Case and spaces ignored: the portal writes "Windows 10", the API "Windows10". */
function fold(platform: string): string {
  return platform.replace(/\s+/g, '').toLowerCase();
}

/**
 * Whether a device on `osPlatform` can run an antivirus scan. A missing platform is not evidence
 * either way: the device is kept and the API answers for it.
 */
export function canRunAntivirusScan(osPlatform: string | null | undefined): boolean {
  if (osPlatform === null || osPlatform === undefined || osPlatform.trim() === '') return true;
  const folded = fold(osPlatform);
  return CAPABLE.has(folded) || LATER_SERVER.test(folded);
}

/** macOS and Linux run a scan from client 101.98.84 on (Microsoft Learn, "Take response actions on a device"). */
export const MIN_MAC_LINUX_CLIENT = [101, 98, 84] as const;

/**
 * Whether a macOS or Linux device's client is older than `MIN_MAC_LINUX_CLIENT` (the API answers
 * 400 ClientVersionNotSupported). A missing or unreadable version is not evidence: kept.
 */
export function clientTooOldForScan(
  osPlatform: string | null | undefined,
  agentVersion: string | null | undefined,
): boolean {
  const platform = fold(osPlatform ?? '');
  if (platform !== 'macos' && platform !== 'linux') return false;
  if (!agentVersion || !/^\d+(\.\d+)*$/.test(agentVersion.trim())) return false;
  const parts = agentVersion.trim().split('.').map(Number);
  for (let i = 0; i < MIN_MAC_LINUX_CLIENT.length; i++) {
    const have = parts[i] ?? 0;
    const need = MIN_MAC_LINUX_CLIENT[i] ?? 0;
    if (have !== need) return have < need;
  }
  return false;
}
