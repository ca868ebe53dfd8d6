import { TokenError } from '../auth/token-error.js';
import { DefenderError } from '../defender/errors.js';

/**
 * Why a tenant's budget is blocked: a fault no device caused and every device would meet
 * (issue 9). A small fixed set, so it can label a metric an alert watches.
 */
export const BLOCK_REASONS = [
  'credentials_rejected',
  'token_expired',
  'certificate_invalid',
  'entra_unreachable',
  'sign_in_required',
  'permission_missing',
] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export interface TenantFault {
  reason: BlockReason;
  /** What was wrong and how to fix it: a sentence for status, logs and webhooks. */
  message: string;
}

/**
 * What a device's turn showed about its tenant's access: `works` (the API took the request,
 * whatever it said about the device) or the fault that blocks the budget.
 */
export type TenantVerdict = 'works' | TenantFault;

const FIXES: Readonly<Record<BlockReason, string>> = {
  credentials_rejected:
    'Check the tenant id, client id and client secret (or certificate) and the authority URL, then restart the workers.',
  token_expired: 'Set a new MDE_ACCESS_TOKEN (or use app credentials) and restart the workers.',
  certificate_invalid:
    'Fix MDE_CERTIFICATE_PATH / MDE_CERTIFICATE_PASSWORD (a readable, unexpired certificate registered on the app), then restart the workers.',
  entra_unreachable:
    'Check the network path to the Entra login host; dispatch resumes by itself once tokens can be had.',
  sign_in_required: 'Run `fleetscan login` for this tenant; dispatch resumes by itself.',
  permission_missing:
    'Grant the app the Machine.Scan and Machine.Read.All application permissions (with admin consent); dispatch resumes by itself.',
};

/**
 * The tenant-wide fault behind a failed call, or undefined when the failure concerns one device
 * (or is an ordinary transient error). Pure, tested as a table: no token (any TokenError, after
 * the token provider's own short retries), a 401 after the forced refresh, a 403 naming a
 * missing permission.
 */
export function tenantFault(error: unknown): TenantFault | undefined {
  if (error instanceof TokenError) return tokenFault(error);
  if (!(error instanceof DefenderError)) return undefined;
  if (error.cause instanceof TokenError) return tokenFault(error.cause);
  // The caller refreshed the token once already: a second 401 is the credential, not the device.
  if (error.status === 401) return fault('credentials_rejected', describe(error));
  if (error.status === 403 && lacksPermission(error)) {
    return fault('permission_missing', describe(error));
  }
  return undefined;
}

function tokenFault(error: TokenError): TenantFault {
  if (error.code === 'sign_in_required') return fault('sign_in_required', error.message);
  if (error.code === 'static_token') return fault('token_expired', error.message);
  if (error.code.startsWith('certificate')) return fault('certificate_invalid', error.message);
  // Transient token errors reach here only after the provider's retries ran out.
  if (error.transient) return fault('entra_unreachable', error.message);
  return fault('credentials_rejected', error.message);
}

/**
 * Microsoft gives a missing permission no code of its own (403 `Forbidden` also answers for one
 * device outside a user's groups), so this is the one place that reads the message: a 403 that
 * names a permission blocks the tenant, any other stays the device's failure.
 */
function lacksPermission(error: DefenderError): boolean {
  return /\bpermissions?\b/i.test(error.apiMessage ?? '');
}

function describe(error: DefenderError): string {
  const api = error.apiMessage ? `: ${error.apiMessage}` : '';
  return `Defender API answered ${String(error.status)} ${error.code}${api}`;
}

function fault(reason: BlockReason, cause: string): TenantFault {
  const sentence = cause.replace(/[.\s]+$/, '');
  return { reason, message: `${sentence}. ${FIXES[reason]}` };
}
