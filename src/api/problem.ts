import { z } from 'zod';

/** RFC 9457 problem details, the body of every error the API answers. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    /** Per-field errors of a request that failed validation. */
    errors: z.array(z.object({ where: z.string(), message: z.string() })).optional(),
  })
  .loose();
export type Problem = z.infer<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://fleetscan.dev/problems/';

/** The kinds of problem, each with its status and title; `type` is the base URL + the kind. */
export const PROBLEM_KINDS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'invalid-devices': { status: 400, title: 'Some device ids are not Defender machine ids' },
  unauthorized: { status: 401, title: 'A valid API token is required' },
  forbidden: { status: 403, title: 'The token may not do this' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'idempotency-conflict': {
    status: 409,
    title: 'The Idempotency-Key was used for another request',
  },
  'idempotency-in-progress': {
    status: 409,
    title: 'A request with this Idempotency-Key is still running',
  },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'rate-limited': { status: 429, title: 'Too many requests for this token' },
  internal: { status: 500, title: 'Internal error' },
  'not-configured': { status: 501, title: 'Not available in this deployment' },
  'upstream-failed': { status: 502, title: 'The Defender API call behind this request failed' },
  unavailable: { status: 503, title: 'Temporarily unavailable' },
} as const;
export type ProblemKind = keyof typeof PROBLEM_KINDS;

/** An error the API turns into a problem answer; thrown anywhere below a route. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  readonly kind: ProblemKind;
  readonly status: number;
  readonly extra: Record<string, unknown>;
  constructor(
    kind: ProblemKind,
    detail: string,
    extra: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(detail, options);
    this.kind = kind;
    this.status = PROBLEM_KINDS[kind].status;
    this.extra = extra;
  }

  toProblem(instance?: string): Problem {
    return problemOf(this.kind, this.message, instance, this.extra);
  }
}

export function problemOf(
  kind: ProblemKind,
  detail: string,
  instance?: string,
  extra: Record<string, unknown> = {},
): Problem {
  const { status, title } = PROBLEM_KINDS[kind];
  return {
    ...extra,
    type: `${TYPE_BASE}${kind}`,
    title,
    status,
    detail,
    ...(instance === undefined ? {} : { instance }),
  };
}

/** The problem kind for an HTTP status fastify or a plugin chose (body limit, 404, …). */
export function kindForStatus(status: number): ProblemKind {
  const found = Object.entries(PROBLEM_KINDS).find(([, value]) => value.status === status);
  if (found) return found[0] as ProblemKind;
  return status >= 500 ? 'internal' : 'invalid-request';
}
