--[[
  Adaptive budget (issue 17): one consistent look at a budget for the adjustment rule, and,
  after a call the server accepted, raises the known-good level of every window (the most of
  our slots the server has been seen to accept in it) that acquire-n.lua probes above with
  few calls in flight. "-n": 4 + one key per window.

  Verified levels (issue 10): the known-good level is forgotten a window after the last
  success, so every campaign would start probing again. The highest level the server accepted
  while no cap was lowered is also kept in the caps hash (`verified:<windowMs>`) for 8 days
  (issue 26; refreshed whenever a success reaches it again): a later campaign of the same
  budget sends up to it at full speed. adapt-apply-3.lua clears it on every decrease.

  Time: Redis TIME; tests with simulated time pass nowMs in ARGV[1].

  Input:
    KEYS[1]    adaptive state: HASH v (version), state (JSON written by adaptive-budget.ts)
    KEYS[2]    known-good levels: HASH windowMs -> count
    KEYS[3]    in-flight slots: ZSET member -> grant time
    KEYS[4]    effective caps: HASH windowMs -> cap, `verified:<windowMs>` -> level, `lowered`
    KEYS[5..]  one log per window: ZSET member -> stamp

    ARGV[1]    nowMs, or '' to read Redis TIME
    ARGV[2]    guardMs
    ARGV[3]    1: a call was accepted, raise the known-good levels; 0: read only
    ARGV[4]    TTL of the known-good hash, ms (the longest window and its guard)
    ARGV[5]    grant time of a slot that drew a 429, or -1: slots in flight granted before it
               were sent earlier and most likely counted by the server already
    ARGV[6]    TTL of the verified levels, ms (8 days: a weekly sweep starts warm)
    ARGV[7..]  windowMs for each window, in KEYS order

  Output:
    {nowMs, version, state JSON or '', slots in flight, of them granted up to ARGV[5],
     stamped in window 1, window 2, ..., known-good level of window 1, window 2, ...}
    (the known-good levels as they were before this call raised them)
]]
--- @include "includes/script-now"
local rcall = redis.call

local now = scriptNow(ARGV[1])
local guard = tonumber(ARGV[2])
local mark = ARGV[3] == '1'

local version = tonumber(rcall('HGET', KEYS[1], 'v')) or 0
local state = rcall('HGET', KEYS[1], 'state') or ''
local before = 0
if tonumber(ARGV[5]) >= 0 then
  before = rcall('ZCOUNT', KEYS[3], '-inf', ARGV[5])
end
local result = {now, version, state, rcall('ZCARD', KEYS[3]), before}
local goods = {}
-- Under a lowered cap our counts hold the storm's refused calls: nothing is verified then.
local verify = mark and rcall('HGET', KEYS[4], 'lowered') ~= '1'
local verifiedAgain = false
for w = 5, #KEYS do
  local field = ARGV[2 + w]
  local stamped = rcall('ZCOUNT', KEYS[w], '(' .. (now - tonumber(field) - guard), '+inf')
  result[#result + 1] = stamped
  local good = tonumber(rcall('HGET', KEYS[2], field)) or 0
  goods[#goods + 1] = good
  if mark and stamped > good then
    rcall('HSET', KEYS[2], field, stamped)
  end
  if verify and stamped > 0 then
    local verified = tonumber(rcall('HGET', KEYS[4], 'verified:' .. field)) or 0
    if stamped > verified then rcall('HSET', KEYS[4], 'verified:' .. field, stamped) end
    if stamped >= verified then verifiedAgain = true end
  end
end
if verifiedAgain then rcall('PEXPIRE', KEYS[4], tonumber(ARGV[6])) end
for i = 1, #goods do result[#result + 1] = goods[i] end
-- Kept while calls succeed; forgotten a whole window after the last one (the cap may change).
if mark then
  rcall('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
return result
