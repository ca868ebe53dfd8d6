/** Failures of a campaign grouped by what went wrong, not by every wording of it. */
export interface FailureGroup {
  /** Microsoft's error code (`OsPlatformNotSupported`), or fleetscan's (`pending-timeout`). */
  code: string;
  count: number;
  /** The distinct messages under this code, most frequent first, in full. */
  messages: { message: string; count: number }[];
}

const CODE_PREFIX = /^([A-Za-z][\w.-]*):\s+([\s\S]*)$/;
const BARE_CODE = /^[A-Za-z][\w.-]*$/;
/** Parts of a free-text reason that differ per device or per moment. */
const VARYING = [
  /\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?/g, // timestamps
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, // GUIDs
  /\b[0-9a-f]{40}\b/gi, // machine ids
  /\d{3,}/g, // ports, milliseconds, counts
];

/**
 * The group a recorded reason belongs to: the code before `: ` when there is one (the message
 * stays in the detail), else the reason with its varying parts (times, ids, numbers) blanked, so
 * one error seen at three moments is one group, not three.
 */
export function failureCode(reason: string): { code: string; message: string } {
  const prefixed = CODE_PREFIX.exec(reason.trim());
  if (prefixed?.[1] !== undefined) return { code: prefixed[1], message: prefixed[2] ?? '' };
  if (BARE_CODE.test(reason.trim())) return { code: reason.trim(), message: '' };
  const code = VARYING.reduce((text, pattern) => text.replace(pattern, '…'), reason.trim());
  return { code: code.length > 80 ? `${code.slice(0, 79)}…` : code, message: reason.trim() };
}

/** `failuresByReason` (reason → devices) grouped by code, largest group first. */
export function groupFailures(failuresByReason: Readonly<Record<string, number>>): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const [reason, n] of Object.entries(failuresByReason)) {
    if (n <= 0) continue;
    const { code, message } = failureCode(reason);
    const group = groups.get(code) ?? { code, count: 0, messages: [] };
    group.count += n;
    if (message !== '') {
      const known = group.messages.find((m) => m.message === message);
      if (known) known.count += n;
      else group.messages.push({ message, count: n });
    }
    groups.set(code, group);
  }
  for (const group of groups.values()) group.messages.sort((a, b) => b.count - a.count);
  return [...groups.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}
