const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses `600ms`, `5s`, `5m`, `1h`, `1.5h` or a bare number of milliseconds; undefined if not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
  const ms = Number(match[1]) * UNIT_MS[unit];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

export interface RateWindow {
  /** Most calls allowed in any span of `windowMs`. */
  cap: number;
  windowMs: number;
}

/** Parses `100/1m,1500/1h` into windows; undefined if any part is not `N/DURATION`. */
export function parseRateLimits(text: string): RateWindow[] | undefined {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) return undefined;
  const windows: RateWindow[] = [];
  for (const part of parts) {
    const match = /^(\d+)\s*\/\s*(.+)$/.exec(part);
    if (!match) return undefined;
    const windowMs = parseDuration(match[2] ?? '');
    const cap = Number(match[1]);
    if (windowMs === undefined || windowMs <= 0 || !Number.isInteger(cap) || cap < 1)
      return undefined;
    windows.push({ cap, windowMs });
  }
  return windows;
}

/**
 * Checks the windows and puts them in one canonical order (shortest first). Two windows of the
 * same length would share a key, so only the stricter cap of the two is kept.
 */
export function normaliseWindows(windows: readonly RateWindow[]): RateWindow[] {
  if (windows.length === 0) throw new RangeError('Expected `windows` to hold at least one window');
  const byLength = new Map<number, number>();
  for (const { cap, windowMs } of windows) {
    if (!Number.isInteger(cap) || cap < 1) {
      throw new RangeError(`Expected \`windows[].cap\` to be an integer ≥ 1, got ${cap}`);
    }
    if (!Number.isInteger(windowMs) || windowMs < 1) {
      throw new RangeError(`Expected \`windows[].windowMs\` to be an integer ≥ 1, got ${windowMs}`);
    }
    byLength.set(windowMs, Math.min(cap, byLength.get(windowMs) ?? cap));
  }
  return [...byLength].sort(([a], [b]) => a - b).map(([windowMs, cap]) => ({ cap, windowMs }));
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 1)}s`;
  const totalMinutes = Math.round(ms / 60_000);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return hours > 0 ? `${hours}h ${String(minutes).padStart(2, '0')}m` : `${minutes}m`;
}
