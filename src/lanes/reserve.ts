/**
 * Whether one more call of a class fits now (the rule dispatch-n.lua applies): `urgent` needs
 * room under the cap, `normal`/`background` need the reserve still free after the call.
 * `used` and `caps` per window, in the same order as `reserve`.
 */
export function fitsNow(
  urgent: boolean,
  used: readonly number[],
  caps: readonly number[],
  reserve: readonly number[],
): boolean {
  return used.every((n, i) => n + 1 <= (caps[i] ?? 0) - (urgent ? 0 : (reserve[i] ?? 0)));
}
