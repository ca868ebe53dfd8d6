--[[
  Re-stamps a slot with the time its reply came back (an upper bound of when the server
  counted the call): it leaves the in-flight set and enters every window log at that time.
  The caller says how long ago (its own measure, from the reply's arrival to this call): the
  stamp is now less that, which is still no earlier than the reply (the script runs after the
  caller sent it), and never earlier than the grant.
  Also used when the slot was already moved there by acquire-n.lua (the lease ran out): the
  later, true reply time then replaces grant + lease. "-n": 1 + one key per window.

  Time: Redis TIME (Redis >= 5: effects replication); tests with simulated time pass nowMs in ARGV[1] (TTLs get 60 s of slack).

  Input:
    KEYS[1]    in-flight slots: ZSET member -> grant time
    KEYS[2..]  one log per window: ZSET member -> stamp

    ARGV[1]    nowMs, or '' to read Redis TIME
    ARGV[2]    guardMs
    ARGV[3]    member id
    ARGV[4]    ms since the reply came back (whole ms, >= 0)
    ARGV[5..]  windowMs for each window, in KEYS order

  Output:
    the stamp written (ms)
]]
--- @include "includes/script-now"
local rcall = redis.call

local now, slack = scriptNow(ARGV[1])
local guard = tonumber(ARGV[2])
local member = ARGV[3]
local stamp = now - (tonumber(ARGV[4]) or 0)
local granted = tonumber(rcall('ZSCORE', KEYS[1], member))
if granted and stamp < granted then stamp = granted end
if stamp > now then stamp = now end

rcall('ZREM', KEYS[1], member)
for w = 2, #KEYS do
  rcall('ZADD', KEYS[w], stamp, member)
  rcall('PEXPIRE', KEYS[w], tonumber(ARGV[3 + w]) + guard + slack)
end
return stamp
