/**
 * Dashboard actions that cannot be undone, and what each does, for the sentence that asks for
 * the campaign's name: cancelling stops its calls for good, the kill switch also cancels its
 * actions in Defender.
 */
export const NAME_CONFIRMED_ACTIONS: Readonly<Record<string, string>> = {
  cancel: 'cancel it',
  'cancel-actions': 'press the kill switch',
};

/**
 * Whether `typed` confirms `action` on the campaign named `name`: null when it does (or the action
 * needs no name), else the refusal to show. Surrounding spaces are forgiven, nothing else: a
 * name that only resembles the campaign's (another campaign's, a case change) is refused.
 */
export function checkTypedName(action: string, name: string, typed: unknown): string | null {
  const what = NAME_CONFIRMED_ACTIONS[action];
  if (what === undefined) return null;
  const text = typeof typed === 'string' ? typed.trim() : '';
  if (text === name.trim()) return null;
  const asked = `Type the campaign's name "${name}" to ${what}`;
  return text === ''
    ? `${asked}; nothing was done.`
    : `"${text}" is not this campaign's name. ${asked}; nothing was done.`;
}
