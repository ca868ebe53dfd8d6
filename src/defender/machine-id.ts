import { InvalidMachineIdError } from './errors.js';

const MACHINE_ID = /^[0-9a-f]{40}$/;

/** True for a machine id in canonical form: exactly 40 lowercase hex characters. */
export function isMachineId(value: unknown): value is string {
  return typeof value === 'string' && MACHINE_ID.test(value);
}

/**
 * Returns the canonical (lowercase) form of a machine id, or throws InvalidMachineIdError.
 * Only ASCII A-F are lowercased: `String.prototype.toLowerCase` would also fold Unicode
 * lookalikes (the Kelvin sign becomes `k`), and nothing but hex may ever reach a URL. Nothing is
 * trimmed either: a stray space or CR/LF means the input was not read as the caller thinks.
 */
export function normalizeMachineId(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : String(raw);
  const lowered = text.replace(/[A-F]/g, (letter) => letter.toLowerCase());
  if (!MACHINE_ID.test(lowered)) throw new InvalidMachineIdError(text);
  return lowered;
}
