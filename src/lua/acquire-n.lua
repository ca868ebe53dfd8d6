--[[
  Takes one call slot from a budget when its admission rule allows it (includes/budget-admission.lua,
  the one rule dispatch-n.lua grants scan slots by): every window, the pause, the effective caps
  and, with the adaptive budget on, the probe limit. The tracker's look-ups, cancels and hunting
  take their slots here; they have no class, so they may use the whole (effective) cap, as an
  urgent campaign does. The rule's breaker part (a blocked budget grants nothing but its probe)
  is asked beside this script, in breaker-admit-1.lua: the breaker's key sits in another Redis
  Cluster slot than these budget keys. "-n": 4 keys + one log per window.

  Input:
    KEYS[1]    pause flag: pausedUntil (ms) as a string
    KEYS[2]    in-flight slots: ZSET member -> grant time
    KEYS[3]    effective caps: HASH windowMs -> cap (applies wherever set), verified:<windowMs>
               -> level the server accepted in an earlier campaign (read when ARGV[5] is 1)
    KEYS[4]    known-good levels: HASH windowMs -> calls in the window the server accepted
    KEYS[5..]  one log per window: ZSET member -> stamp (reply time, or grant + lease)

    ARGV[1]    nowMs, or '' to read Redis TIME
    ARGV[2]    guardMs, added to every window
    ARGV[3]    leaseMs: longest a slot may stay in flight
    ARGV[4]    member id of the new slot (unique)
    ARGV[5]    1: adaptive probe limit on, 0: off
    ARGV[6]    most probe slots in flight: above the accepted level (adaptive only)
    ARGV[7]    wait (ms) answered when only that limit refuses: until a call in flight replies
    ARGV[8..]  configured cap, windowMs, adaptive floor (the level the probe limit takes as
               accepted; 0 when off) for each window, in KEYS order

  Output:
    {1, nowMs}    granted; the slot is in flight from nowMs
    {0, waitMs}   refused; waitMs until the pause ends and every window has room, counting
                  slots still in flight as if they settled now (the earliest they can leave);
                  at least the probe wait when the probe limit refuses

  Time: Redis TIME (includes/script-now.lua); tests with simulated time pass nowMs in ARGV[1]
  (key TTLs then get 60 s of slack).
]]
--- @include "includes/script-now"
--- @include "includes/budget-admission"
local now, slack = scriptNow(ARGV[1])
local windows = {}
for w = 1, #KEYS - 4 do
  windows[w] = { key = KEYS[w + 4], cap = tonumber(ARGV[5 + 3 * w]),
    windowMs = tonumber(ARGV[6 + 3 * w]), reserve = 0, floor = tonumber(ARGV[7 + 3 * w]) }
end
local budget = admissionOpen({ pauseKey = KEYS[1], inflightKey = KEYS[2], capsKey = KEYS[3],
  goodKey = KEYS[4], now = now, slack = slack, guard = tonumber(ARGV[2]),
  lease = tonumber(ARGV[3]), adaptive = ARGV[5] == '1', probeInflight = tonumber(ARGV[6]) or 0,
  windows = windows })

-- Rank 1: a caller outside the lanes may use the whole (effective) cap, as urgent campaigns do.
local wait, probed = admissionWait(budget, 1, 0)
if probed then wait = math.max(wait, tonumber(ARGV[7]) or 0, 1) end
if wait > 0 then
  return {0, wait}
end
admissionGrant(budget, ARGV[4])
admissionKeep(budget)
return {1, now}
