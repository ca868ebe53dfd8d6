import type { Logger } from 'pino';
import type { CallPermit } from '../defender/call-gate.js';
import type { EndpointFamily } from '../defender/machine-action.js';

export type PermitState = 'held' | 'settled' | 'released';

/** A slot of one family's budget, held from the grant until `settle()` or `release()`. */
export interface ScanPermit extends CallPermit {
  readonly id: string;
  readonly family: EndpointFamily;
  /** When the slot was granted, in ms on the limiter's timeline (Redis TIME). */
  readonly grantedAt: number;
  /** The reply time `settle()` stamped the slot with, once it has. */
  readonly settledAt: number | undefined;
  readonly state: PermitState;
}

/** What a permit asks of its limiter; `settle` resolves to the stamp written. */
export interface PermitEnds {
  settle(
    id: string,
    family: EndpointFamily,
    grantedAt: number,
    repliedMsAgo: number,
  ): Promise<number>;
  release(id: string, family: EndpointFamily): Promise<void>;
}

/**
 * Makes a permit that ends exactly once: a second `settle()`/`release()` (or the other one)
 * returns the first call's promise and changes nothing. Neither ever rejects: a slot Redis did
 * not hear about stays counted as in flight and, after the lease, as replied at grant + lease,
 * which is safe; an error thrown here would instead hide the API call's own outcome.
 */
export function createPermit(
  id: string,
  family: EndpointFamily,
  grantedAt: number,
  ends: PermitEnds,
  log?: Logger,
): ScanPermit {
  let state: PermitState = 'held';
  let settledAt: number | undefined;
  let ending: Promise<void> | undefined;

  const end = (how: 'settled' | 'released', repliedMsAgo = 0): Promise<void> => {
    if (ending) {
      if (state !== how) log?.warn({ family, permit: id, state }, `permit already ${state}`);
      return ending;
    }
    state = how;
    const work =
      how === 'settled'
        ? ends.settle(id, family, grantedAt, repliedMsAgo).then((stamp) => {
            settledAt = stamp;
          })
        : ends.release(id, family);
    ending = work.catch((error: unknown) => {
      log?.warn({ err: error, family, permit: id }, `could not record the ${how} slot`);
    });
    return ending;
  };

  return {
    id,
    family,
    grantedAt,
    get settledAt() {
      return settledAt;
    },
    get state() {
      return state;
    },
    settle: (repliedMsAgo?: number) => end('settled', repliedMsAgo),
    release: () => end('released'),
  };
}
