import got, { type Got } from 'got';

/** What one plain runAntiVirusScan POST came back with; the alternatives branch on it. */
export type ScanOutcome =
  | { kind: 'created' }
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'transient'; status: number }
  | { kind: 'failed'; status: number; code: string };

export interface ScanCallSettings {
  apiUrl: string;
  token: string;
  /** Used when a 429 carries no Retry-After (mde-api.md: assume 60 s, scaled here). */
  defaultRetryAfterMs: number;
}

/**
 * The minimal honest client an integrator would write without fleetscan: got with keep-alive,
 * no got retries (the caller decides), Retry-After honoured as whole seconds.
 */
export function createScanCall(
  settings: ScanCallSettings,
): (machineId: string) => Promise<ScanOutcome> {
  const client: Got = got.extend({
    prefixUrl: settings.apiUrl,
    headers: { authorization: `Bearer ${settings.token}` },
    retry: { limit: 0 },
    throwHttpErrors: false,
    timeout: { request: 30_000 },
  });
  return async (machineId) => {
    let response;
    try {
      response = await client.post(`api/machines/${machineId}/runAntiVirusScan`, {
        json: { Comment: 'bench alternative', ScanType: 'Quick' },
      });
    } catch {
      return { kind: 'transient', status: 0 };
    }
    const status = response.statusCode;
    if (status === 201 || status === 200) return { kind: 'created' };
    if (status === 429) {
      const seconds = Number(response.headers['retry-after']);
      const retryAfterMs =
        Number.isFinite(seconds) && seconds >= 0 ? seconds * 1_000 : settings.defaultRetryAfterMs;
      return { kind: 'throttled', retryAfterMs };
    }
    if (status >= 500) return { kind: 'transient', status };
    return { kind: 'failed', status, code: errorCode(response.body) };
  };
}

function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : 'unknown';
  } catch {
    return 'unparseable';
  }
}
