/**
 * Credentials inside URLs, masked for output. One helper for every place a URL or a message that
 * may hold one is printed (doctor, `--json`, errors, logs): `redis://default:s3cret@host` becomes
 * `redis://default:***@host`. The user name stays (it tells which ACL user is meant); the password
 * never does. Works on text that is not a valid WHATWG URL too (cluster lists, `host,host`).
 */
const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#]*):([^\s@/?#]*)@/gi;
/** A user part alone (`https://token@host`) is a credential too: some services take the token as the user. */
const USER_ONLY = /\b((?:https?|wss?):\/\/)([^\s:@/?#]+)@/gi;

export const MASK = '***';

/** Every `scheme://user:password@` in `text` with the password masked; the rest unchanged. */
export function redactUrlsIn(text: string): string {
  return text
    .replace(CREDENTIALS, (_, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(USER_ONLY, (_, scheme: string) => `${scheme}${MASK}@`);
}

/** One URL for display, its password masked (an alias that reads better at call sites). */
export function redactUrl(url: string): string {
  return redactUrlsIn(url);
}
