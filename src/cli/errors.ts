/** Bad input from the person at the keyboard: printed as is, exit 1, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
