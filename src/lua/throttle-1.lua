--[[
  Pauses a budget for every process after a 429, never shortening a longer pause already set.

  Time: Redis TIME (Redis >= 5: effects replication); tests with simulated time pass nowMs in ARGV[1] (the key then keeps 60 s
  of slack, because simulated time may run slower than the clock Redis expires keys by).

  Input:
    KEYS[1]    pause flag: pausedUntil (ms) as a string, expiring when the pause ends

    ARGV[1]    nowMs, or '' to read Redis TIME
    ARGV[2]    pause length in ms (> 0)

  Output:
    pausedUntil in ms, after this call
]]
--- @include "includes/script-now"
local rcall = redis.call

local now, slack = scriptNow(ARGV[1])
local ms = tonumber(ARGV[2])
local untilMs = now + ms

local current = tonumber(rcall('GET', KEYS[1]))
if current and current >= untilMs then
  return current
end
rcall('SET', KEYS[1], untilMs, 'PX', ms + slack)
return untilMs
