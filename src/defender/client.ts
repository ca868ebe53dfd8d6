import pRetry from 'p-retry';
import type { TokenProvider } from '../auth/token-provider.js';
import type { ApiCallEvent } from './call.js';
import type { Logger } from '../shared/logger.js';
import { normalizeActionId } from './action-id.js';
import { createCaller, type CallOptions } from './call.js';
import type { CallGate, CallPermit } from './call-gate.js';
import { DefenderError } from './errors.js';
import { createHttp, type Attempt } from './http.js';
import {
  SCAN_TYPES,
  type EndpointFamily,
  type Machine,
  type MachineAction,
  type ScanType,
} from './machine-action.js';
import { normalizeMachineId } from './machine-id.js';
import { toMachine, toMachineAction } from './normalize.js';
import {
  buildMachineActionFilter,
  buildMachineFilter,
  type MachineActionFilter,
  type MachineFilter,
} from './odata.js';
import { actionsBySlices } from './action-slices.js';
import { createPager } from './paging.js';
import { invalidInput } from './response-error.js';

export interface DefenderClientOptions {
  /** API base, e.g. `https://api.security.microsoft.com` (from `resolveCloud`). */
  apiUrl: string;
  tokens: TokenProvider;
  gate: CallGate;
  timeoutMs: number;
  /** `$top` of list calls: the most one answer holds (mde-api.md, "Paging"). */
  pageSize: number;
  /** Pause after a 429 without Retry-After (config `limits.throttleDefault`). */
  throttleDefaultMs: number;
  log: Logger;
  onCall?: (event: ApiCallEvent) => void;
  /** Extra tries of list/get GETs after `backoff` failures (default 2) and the first delay (500 ms). */
  getRetries?: number;
  getRetryMinTimeoutMs?: number;
  /** Extra CA certificates (PEM) to trust. */
  ca?: string | Buffer;
}

export interface ScanRequest {
  /** Required by the API; the pipeline appends `[fleetscan:<campaign>]`. */
  comment: string;
  scanType: ScanType;
}

export interface ListOptions {
  signal?: AbortSignal;
}

export interface DefenderClient {
  runAntiVirusScan(
    machineId: string,
    request: ScanRequest,
    options?: CallOptions,
  ): Promise<MachineAction>;
  listMachines(filter?: string | MachineFilter, options?: ListOptions): AsyncIterable<Machine>;
  listMachineActions(
    filter?: string | MachineActionFilter,
    options?: ListOptions,
  ): AsyncIterable<MachineAction>;
  getMachineAction(actionId: string, options?: ListOptions): Promise<MachineAction>;
  cancelMachineAction(
    actionId: string,
    comment: string,
    options?: CallOptions,
  ): Promise<MachineAction>;
  /**
   * Fetches the token and opens up to `sockets` keep-alive connections to the API host, so the
   * first burst of a campaign leaves at once (a worker does it at start). Resolves with the
   * connections opened; never rejects (a failure shows again on the first call).
   */
  warmUp?(sockets: number): Promise<number>;
  /** Closes kept-alive sockets. */
  close(): void;
}

/**
 * The Defender for Endpoint API client: one method per endpoint, every call through the budget
 * gate, every failure one DefenderError (see `call.ts` for the per-request rules).
 */
export function createDefenderClient(options: DefenderClientOptions): DefenderClient {
  const base = new URL(options.apiUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const http = createHttp({ timeoutMs: options.timeoutMs, ca: options.ca });
  const call = createCaller({ ...options, http });

  /** Builds `${apiUrl}${path}` and checks that URL parsing kept the path exactly as meant. */
  const endpoint = (path: string, query: Record<string, string | undefined> = {}): URL => {
    const url = new URL(`${base.origin}${basePath}${path}`);
    if (url.origin !== base.origin || url.pathname !== `${basePath}${path}`) {
      throw invalidInput('InvalidUrl', `Refusing to call a path other than ${path}`);
    }
    const pairs = Object.entries(query).filter(
      (pair): pair is [string, string] => pair[1] !== undefined,
    );
    // `$` stays literal and spaces become %20 (not `+`), as OData examples write them.
    url.search = pairs.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
    return url;
  };

  const withBackoff = <T>(run: () => Promise<T>, signal?: AbortSignal): Promise<T> =>
    pRetry(run, {
      retries: options.getRetries ?? 2,
      minTimeout: options.getRetryMinTimeoutMs ?? 500,
      maxTimeout: 10_000,
      randomize: true,
      ...(signal ? { signal } : {}),
      shouldRetry: ({ error }) => error instanceof DefenderError && error.retry === 'backoff',
    });

  const actionFrom = (body: unknown, what: string): MachineAction => {
    const action = toMachineAction(body);
    if (action) return action;
    const message = `The ${what} reply is not a MachineAction`;
    throw new DefenderError({ status: 200, code: 'InvalidResponse', retry: 'backoff', message });
  };

  /** Runs `post` with the caller's permit, giving the permit back when we refuse before sending. */
  const guarded = async <T>(
    permit: CallPermit | undefined,
    build: () => Attempt,
    post: (attempt: Attempt) => Promise<T>,
  ) => {
    let attempt: Attempt;
    try {
      attempt = build();
    } catch (error) {
      await permit?.release();
      throw error;
    }
    return post(attempt);
  };

  const pager = createPager({ call, withBackoff, log: options.log, pageSize: options.pageSize });
  /** `$skip` only when not 0, so a first page reads as the API's own examples. */
  const paged = (path: string, filter: string | undefined, top: number, skip: number) =>
    endpoint(path, {
      $filter: filter,
      $top: String(top),
      $skip: skip > 0 ? String(skip) : undefined,
    });

  return {
    runAntiVirusScan(machineId, request, callOptions = {}) {
      return guarded(
        callOptions.permit,
        () => {
          const id = normalizeMachineId(machineId);
          if (!request.comment.trim())
            throw invalidInput('MissingRequiredParameter', 'A scan needs a comment');
          if (!SCAN_TYPES.includes(request.scanType)) {
            throw invalidInput('InvalidInput', `ScanType must be one of ${SCAN_TYPES.join(', ')}`);
          }
          return {
            family: 'scan',
            method: 'POST',
            url: endpoint(`/api/machines/${id}/runAntiVirusScan`),
            body: { Comment: request.comment, ScanType: request.scanType },
          };
        },
        async (attempt) => actionFrom(await call(attempt, callOptions), 'runAntiVirusScan'),
      );
    },

    listMachines(filter, listOptions = {}) {
      const text = typeof filter === 'object' ? buildMachineFilter(filter) : filter;
      const url = (top: number, skip: number) => paged('/api/machines', text, top, skip);
      return pager.bySkip<Machine>('machines', url, toMachine, new Set(), listOptions.signal);
    },

    listMachineActions(filter, listOptions = {}) {
      const { signal } = listOptions;
      if (typeof filter === 'object') {
        const urlFor = (slice: MachineActionFilter, top: number, skip: number) =>
          paged('/api/machineactions', buildMachineActionFilter(slice), top, skip);
        return actionsBySlices({ pager, pageSize: options.pageSize, urlFor }, filter, signal);
      }
      // A text filter cannot be cut into creation-time slices: read by $skip (doctor, tests).
      const url = (top: number, skip: number) => paged('/api/machineactions', filter, top, skip);
      return pager.bySkip('machineActions', url, toMachineAction, new Set(), signal);
    },

    async getMachineAction(actionId, listOptions = {}) {
      const url = endpoint(`/api/machineactions/${normalizeActionId(actionId)}`);
      const attempt: Attempt = { family: 'machineActions', method: 'GET', url };
      const { signal } = listOptions;
      return actionFrom(
        await withBackoff(() => call(attempt, { signal }), signal),
        'getMachineAction',
      );
    },

    cancelMachineAction(actionId, comment, callOptions = {}) {
      return guarded(
        callOptions.permit,
        () => {
          if (!comment.trim())
            throw invalidInput('MissingRequiredParameter', 'A cancel needs a comment');
          return {
            family: 'cancel' satisfies EndpointFamily,
            method: 'POST',
            url: endpoint(`/api/machineactions/${normalizeActionId(actionId)}/cancel`),
            body: { Comment: comment },
          };
        },
        async (attempt) => actionFrom(await call(attempt, callOptions), 'cancelMachineAction'),
      );
    },

    async warmUp(sockets) {
      try {
        await options.tokens.getToken();
      } catch (error) {
        options.log.debug({ reason: String(error) }, 'no token before the first call');
      }
      return http.warm(base.origin, sockets);
    },
    close() {
      http.close();
    },
  };
}
