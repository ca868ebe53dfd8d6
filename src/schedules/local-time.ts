const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let found = formatters.get(tz);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, found);
  }
  return found;
}

/** Whether `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock parts of `ms` in `tz`. */
export function localParts(ms: number, tz: string) {
  const parts: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const get = (key: string) => parts[key] ?? 0;
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** Local time of day in minutes (fractional: seconds and ms included). */
export function localMinuteOfDay(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return p.hour * 60 + p.minute + (p.second + (((ms % 1000) + 1000) % 1000) / 1000) / 60;
}

/** `2026-03-29 03:30` in `tz`, for people. */
export function formatLocal(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(p.year)}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}
