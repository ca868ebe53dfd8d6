import { randomBytes } from 'node:crypto';
import type { SimUser } from './sim-users.js';

/** A device code handed out and not yet redeemed. */
export interface PendingDeviceCode {
  deviceCode: string;
  userCode: string;
  resource: string;
  expiresMs: number;
  intervalMs: number;
  lastPollMs: number | null;
  /** The user who entered the code, once they have. */
  approvedBy: SimUser | null;
  redeemed: boolean;
}

/** What a refresh token stands for. */
export interface RefreshGrant {
  user: SimUser;
  resource: string;
}

/**
 * The simulator's delegated sign-in state: users, device codes in flight, refresh tokens. Refresh
 * tokens rotate as Entra's do (each refresh hands out a new one) but the old one stays valid until
 * revoked, as Entra's do, so two processes refreshing at once both succeed.
 */
export class DelegatedState {
  readonly users: ReadonlyMap<string, SimUser>;
  private readonly codes = new Map<string, PendingDeviceCode>();
  private readonly refresh = new Map<string, RefreshGrant>();

  constructor(users: ReadonlyMap<string, SimUser>) {
    this.users = users;
  }

  newDeviceCode(resource: string, nowMs: number, lifetimeSec: number, intervalSec: number) {
    const letters = 'BCDFGHJKLMNPQRSTVWXZ';
    const bytes = randomBytes(9);
    const userCode = [...bytes].map((b) => letters[b % letters.length] ?? 'X').join('');
    const code: PendingDeviceCode = {
      deviceCode: `sim-dc-${randomBytes(24).toString('base64url')}`,
      userCode,
      resource,
      expiresMs: nowMs + lifetimeSec * 1000,
      intervalMs: intervalSec * 1000,
      lastPollMs: null,
      approvedBy: null,
      redeemed: false,
    };
    this.codes.set(code.deviceCode, code);
    return code;
  }

  byDeviceCode(deviceCode: string): PendingDeviceCode | undefined {
    return this.codes.get(deviceCode);
  }

  /** The user entered `userCode` and signed in; false when code or user is unknown or expired. */
  approve(userCode: string, username: string, nowMs: number): boolean {
    const user = this.users.get(username.toLowerCase());
    const code = [...this.codes.values()].find((c) => c.userCode === userCode.trim().toUpperCase());
    if (!user || !code || code.redeemed || code.expiresMs <= nowMs) return false;
    code.approvedBy = user;
    return true;
  }

  issueRefreshToken(grant: RefreshGrant): string {
    const token = `sim-rt-${randomBytes(32).toString('base64url')}`;
    this.refresh.set(token, grant);
    return token;
  }

  refreshGrant(token: string): RefreshGrant | undefined {
    return this.refresh.get(token);
  }

  /** Revokes every refresh token of a user (an admin's "revoke sessions"); returns how many. */
  revoke(username: string): number {
    let n = 0;
    for (const [token, grant] of this.refresh) {
      if (grant.user.username === username.toLowerCase()) {
        this.refresh.delete(token);
        n++;
      }
    }
    return n;
  }
}
