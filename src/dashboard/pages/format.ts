const counts = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return counts.format(Math.round(value));
}

/** `2h 05m`, `4m 10s`, `12s`, `<1s`: short enough for a stat tile. */
export function formatSpan(ms: number): string {
  if (ms < 1_000) return ms <= 0 ? '0s' : '<1s';
  const seconds = Math.round(ms / 1_000);
  const h = Math.floor(seconds / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A window length as operators write it: `1 min`, `1 h`, `600 ms`, `36 s`. */
export function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}

/** `2026-11-23 11:20:05 UTC`: one time zone for every screen in the room. */
export function formatTime(epochMs: number | null): string {
  if (epochMs === null) return '—';
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatPercent(value: number): string {
  return `${value >= 99.95 || value === 0 ? value.toFixed(0) : value.toFixed(1)}%`;
}

const CLOUDS: Readonly<Record<string, string>> = {
  commercial: 'Commercial',
  gcc: 'GCC',
  'gcc-high': 'GCC High',
  dod: 'DoD',
};

/** `Commercial`, `GCC High`: a cloud as Microsoft names it. */
export function formatCloud(cloud: string): string {
  return CLOUDS[cloud] ?? cloud;
}
