import { createHash, randomBytes } from 'node:crypto';
import type { PendingSignIn } from '../../auth/signin-client.js';
import type { Clock } from '../../shared/clock.js';
import type { Redis } from '../../shared/redis.js';
import type { Person } from '../roles.js';

/** A sign-in started and not yet finished: what the callback checks, where to go after. */
export interface StartedSignIn extends PendingSignIn {
  /** The random value of the browser's sign-in cookie: the callback must come from it. */
  binding: string;
  returnTo: string;
}

interface StoredSession {
  person: Person;
  createdAt: number;
  lastSeenAt: number;
}

/** How long a started sign-in may take (the person picks an account, maybe types a password). */
const SIGN_IN_TTL_MS = 10 * 60_000;

/** Keys hold a hash of the id: a copy of Redis gives no cookie that would let anyone in. */
const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

export interface SessionStore {
  /** Starts a session for `person`; returns the id for the cookie. */
  create(person: Person): Promise<string>;
  /** The person of a live session (and marks it used), or null: unknown, idle or too old. */
  read(id: string | undefined): Promise<Person | null>;
  destroy(id: string | undefined): Promise<void>;
  /** Keeps a started sign-in until its callback (keyed by its state). */
  saveSignIn(started: StartedSignIn): Promise<void>;
  /** The started sign-in of `state`, once: a replayed callback finds nothing. */
  takeSignIn(state: string): Promise<StartedSignIn | null>;
}

/**
 * Server-side dashboard sessions in Redis (`<prefix>:dashboard:session:<sha256 of id>`): the
 * cookie carries only a random id. A session ends after `idleMs` unused or `absoluteMs` after
 * sign-in, whichever comes first, judged by the injected clock; Redis expires the key then too.
 */
export function createSessionStore(
  redis: Redis,
  prefix: string,
  options: { idleMs: number; absoluteMs: number; clock: Clock },
): SessionStore {
  const sessionKey = (id: string) => `${prefix}:dashboard:session:${digest(id)}`;
  const signInKey = (state: string) => `${prefix}:dashboard:signin:${digest(state)}`;
  const { idleMs, absoluteMs, clock } = options;
  const save = async (id: string, session: StoredSession) => {
    const now = clock.now();
    const left = Math.min(idleMs, session.createdAt + absoluteMs - now);
    await redis.set(sessionKey(id), JSON.stringify(session), 'PX', Math.max(1, left));
  };
  return {
    async create(person) {
      const id = randomBytes(32).toString('base64url');
      const now = clock.now();
      await save(id, { person, createdAt: now, lastSeenAt: now });
      return id;
    },
    async read(id) {
      if (!id) return null;
      const raw = await redis.get(sessionKey(id));
      if (raw === null) return null;
      const session = JSON.parse(raw) as StoredSession;
      const now = clock.now();
      if (now - session.lastSeenAt >= idleMs || now - session.createdAt >= absoluteMs) {
        await redis.del(sessionKey(id));
        return null;
      }
      await save(id, { ...session, lastSeenAt: now });
      return session.person;
    },
    async destroy(id) {
      if (id) await redis.del(sessionKey(id));
    },
    async saveSignIn(started) {
      await redis.set(signInKey(started.state), JSON.stringify(started), 'PX', SIGN_IN_TTL_MS);
    },
    async takeSignIn(state) {
      const raw = await redis.getdel(signInKey(state));
      return raw === null ? null : (JSON.parse(raw) as StartedSignIn);
    },
  };
}
