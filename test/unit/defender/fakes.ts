import type { TokenProvider } from '../../../src/auth/token-provider.js';
import type { CallGate, CallPermit } from '../../../src/defender/call-gate.js';
import { createDefenderClient, type DefenderClientOptions } from '../../../src/defender/client.js';
import { DefenderError } from '../../../src/defender/errors.js';
import type { EndpointFamily } from '../../../src/defender/machine-action.js';
import { createLogger } from '../../../src/shared/logger.js';

export type GateEvent =
  | { type: 'acquire'; family: EndpointFamily; slot: number }
  | { type: 'settle' | 'release'; slot: number }
  | { type: 'throttle'; family: EndpointFamily; ms: number };

/** A CallGate that hands out numbered permits at once and records what happens to them. */
export function fakeGate() {
  const events: GateEvent[] = [];
  let slots = 0;
  const permit = (slot: number): CallPermit => {
    let used = false;
    const once = (type: 'settle' | 'release') => {
      if (used) throw new Error(`permit ${slot} used twice`);
      used = true;
      events.push({ type, slot });
      return Promise.resolve();
    };
    return { settle: () => once('settle'), release: () => once('release') };
  };
  const gate: CallGate = {
    acquire(family) {
      slots += 1;
      events.push({ type: 'acquire', family, slot: slots });
      return Promise.resolve(permit(slots));
    },
    throttle(family, ms) {
      events.push({ type: 'throttle', family, ms });
      return Promise.resolve();
    },
  };
  /** A permit taken outside the gate (as `limiter.tryAcquire` does): slot 0. */
  const callerPermit = () => permit(0);
  const types = () => events.map((event) => event.type);
  return { gate, events, callerPermit, types };
}

/** A token provider whose tokens are `token-1`, `token-2`… (a new one per forced refresh). */
export function fakeTokens(options: { failWith?: Error; refuseRefresh?: Error } = {}) {
  let generation = 1;
  const calls: { forceRefresh: boolean }[] = [];
  const tokens: TokenProvider = {
    kind: 'secret',
    getToken(request = {}) {
      const forceRefresh = request.forceRefresh ?? false;
      calls.push({ forceRefresh });
      if (options.failWith) return Promise.reject(options.failWith);
      if (forceRefresh) {
        if (options.refuseRefresh) return Promise.reject(options.refuseRefresh);
        generation += 1;
      }
      return Promise.resolve(`token-${generation}`);
    },
  };
  return { tokens, calls };
}

/** A client with test defaults: silent log, short timeouts, pages of 2, fast GET retries. */
export function testClient(
  url: string,
  parts: Partial<DefenderClientOptions> & Pick<DefenderClientOptions, 'gate' | 'tokens'>,
) {
  return createDefenderClient({
    apiUrl: url,
    timeoutMs: 2_000,
    pageSize: 2,
    throttleDefaultMs: 60_000,
    log: createLogger({ level: 'silent' }),
    getRetryMinTimeoutMs: 5,
    ...parts,
  });
}

/** The DefenderError a call failed with (fails the test if it succeeded or threw another). */
export async function failure(promise: Promise<unknown>): Promise<DefenderError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DefenderError))
    throw new Error(`expected a DefenderError, got ${String(error)}`);
  return error;
}
