/** MachineAction ids are GUIDs; anything else never reaches a URL. */
const ACTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An action id that is not a GUID. */
export class InvalidActionIdError extends Error {
  override name = 'InvalidActionIdError';
  readonly value: string;
  constructor(value: string) {
    super(`Not a MachineAction id (a GUID): ${JSON.stringify(value.slice(0, 80))}`);
    this.value = value;
  }
}

/** Returns the action id in lowercase, or throws InvalidActionIdError. */
export function normalizeActionId(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : String(raw);
  const lowered = text.replace(/[A-F]/g, (letter) => letter.toLowerCase());
  if (!ACTION_ID.test(lowered)) throw new InvalidActionIdError(text);
  return lowered;
}
