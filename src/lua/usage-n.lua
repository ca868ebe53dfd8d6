--[[
  Reads how much of a budget is in use, without changing anything (for status and the
  dashboard). Counts exactly what acquire-n.lua would: stamps inside each window, every
  slot in flight, and abandoned slots (grant + lease) still inside a window.
  "-n": 2 + one key per window.

  Time: Redis TIME; tests with simulated time pass nowMs in ARGV[1].

  Input:
    KEYS[1]    pause flag: pausedUntil (ms) as a string
    KEYS[2]    in-flight slots: ZSET member -> grant time
    KEYS[3..]  one log per window: ZSET member -> stamp

    ARGV[1]    nowMs, or '' to read Redis TIME
    ARGV[2]    guardMs
    ARGV[3]    leaseMs
    ARGV[4..]  windowMs for each window, in KEYS order

  Output:
    {nowMs, pausedUntil or 0 when not paused, used in window 1, used in window 2, ...}
]]
--- @include "includes/script-now"
local rcall = redis.call

local now = scriptNow(ARGV[1])
local guard = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])

local pausedUntil = tonumber(rcall('GET', KEYS[1])) or 0
if pausedUntil <= now then
  pausedUntil = 0
end

local result = {now, pausedUntil}
for w = 3, #KEYS do
  local span = tonumber(ARGV[1 + w]) + guard
  local stamped = rcall('ZCOUNT', KEYS[w], '(' .. (now - span), '+inf')
  local inflight = rcall('ZCOUNT', KEYS[2], '(' .. (now - lease - span), '+inf')
  result[#result + 1] = stamped + inflight
end
return result
