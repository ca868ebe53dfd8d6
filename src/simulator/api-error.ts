import { randomUUID } from 'node:crypto';

/** Error codes the simulator answers with, spelled as Microsoft spells them (mde-api.md). */
export const API_ERROR_CODES = [
  'ActiveRequestAlreadyExists',
  'InvalidRequestBody',
  'InvalidInput',
  'BadRequest',
  'ODataError',
  'OsPlatformNotSupported',
  'ClientVersionNotSupported',
  'Unauthorized',
  'Forbidden',
  'ResourceNotFound',
  'TooManyRequests',
  /** The code of a real throttling answer (MicrosoftDocs/microsoft-365-docs issue 4616). */
  '429',
  'InternalServerError',
  'ServiceUnavailable',
  'BadGateway',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** What a route handler decided: a status, a JSON body, extra headers, and what to log. */
export interface ApiResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  code?: ApiErrorCode;
  machineId?: string | null;
  /** Id of an action this call created. */
  createdActionId?: string | null;
  /** Id of an existing action this call answered with (201 with the pending action). */
  existingActionId?: string | null;
}

/** The one error shape of the API: `{"error":{"code","message","target"}}`. */
export function apiError(
  status: number,
  code: ApiErrorCode,
  message: string,
  extra: Partial<ApiResult> = {},
): ApiResult {
  return { ...extra, status, code, body: { error: { code, message, target: randomUUID() } } };
}
