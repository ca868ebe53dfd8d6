import type { Retry } from './errors.js';

/**
 * How a failed call may be retried, from the HTTP status and Microsoft's `error.code` only
 * (mde-api.md "Errors"; never from the message, which Microsoft may reword). Status 0 means no
 * reply came at all (network error, timeout, lost reply). Pure, and tested as a table.
 */
export function classify(status: number, code: string | undefined): Retry {
  if (status === 0) return 'backoff';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'backoff';
  if (status === 401) return 'reauth';
  // Codes are compared case-insensitively: only their spelling is documented, not their case.
  if (status === 400 && code?.toLowerCase() === 'activerequestalreadyexists') return 'later';
  // Every other 4xx (documented or not) is our bug, bad input, a permission or a device that
  // cannot do it: retrying the same request cannot help.
  return 'never';
}
