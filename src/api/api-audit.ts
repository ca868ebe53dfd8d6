import type { FastifyRequest } from 'fastify';
import type { ApiToken } from './tokens/token-store.js';
import { outcomeOfStatus, type AuditInput } from '../audit/audit-log.js';

/** The API's actor name: the token's name and its id (names may be reused after a revoke). */
export function tokenActor(token: Pick<ApiToken, 'id' | 'name'>): string {
  return `token:${token.name}/${token.id}`;
}

/**
 * Why a request was refused, from its problem answer: the detail, with the first per-field
 * errors of a validation failure (`body.devices: …`), so a 400 row says what was wrong.
 */
export function problemDetail(payload: unknown): string {
  if (typeof payload !== 'string') return '';
  try {
    const problem = JSON.parse(payload) as {
      detail?: unknown;
      title?: unknown;
      errors?: { where?: unknown; message?: unknown }[];
    };
    const fields = Array.isArray(problem.errors)
      ? problem.errors
          .slice(0, 3)
          .map((e) => `${String(e.where)}: ${String(e.message)}`)
          .join('; ')
      : '';
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    const title = typeof problem.title === 'string' ? problem.title : '';
    const text = detail || title;
    return fields && !text.includes(fields) ? `${text} (${fields})` : text;
  } catch {
    return '';
  }
}

/** One API write's audit entry: the token, the client's address, the answer's status. */
export function apiAuditInput(
  request: FastifyRequest,
  token: Pick<ApiToken, 'id' | 'name'>,
  action: string,
  status: number,
  at: number,
): AuditInput {
  const params = request.params as { id?: unknown } | undefined;
  return {
    at,
    who: tokenActor(token),
    source: 'api',
    action,
    target: request.auditTarget || (typeof params?.id === 'string' ? params.id : ''),
    from: request.ip,
    status,
    outcome: outcomeOfStatus(status),
    detail: request.auditDetail,
  };
}
