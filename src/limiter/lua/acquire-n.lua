--[[
  Takes one call slot from a budget when every window and the pause flag allow it.
  "-n": the key count varies with the number of windows (4 + one key per window), so callers
  pass numkeys with every call.

  Adaptive budget (issue 17), when ARGV[5] is 1: a window's cap is min(configured, the value
  in the caps hash under its length in ms), the effective cap that adaptive-budget.ts lowers
  after a 429 and raises again (every process and every dispatcher reads the same hash). And
  above the level the server has last been seen to accept (`good` hash, same fields), at most
  ARGV[6] slots may be in flight: when the real cap is lower than the effective one, only that
  many calls can meet a 429 before the first 429 pauses the budget. A level verified by an
  earlier campaign of the budget (`verified:<windowMs>` in the caps hash) counts as accepted.

  Time: Redis TIME, so hosts with skewed clocks share one timeline (writing after TIME needs
  Redis >= 5, effects replication, as BullMQ does). Tests with simulated time pass nowMs in
  ARGV[1] instead; key TTLs then get 60 s of slack, because simulated time may run slower than
  the clock Redis expires keys by.

  A slot counts in every window from the moment it is granted: it sits in the in-flight set
  (counted as if stamped "now") until settle-n.lua stamps it with its reply time in each
  window log. A slot whose holder died before settling is treated here as replied at
  grant + lease, an upper bound of when the server can have counted it.

  Input:
    KEYS[1]    pause flag: pausedUntil (ms) as a string
    KEYS[2]    in-flight slots: ZSET member -> grant time
    KEYS[3]    effective caps: HASH windowMs -> cap, verified:<windowMs> -> level the server
               accepted in an earlier campaign (read only when ARGV[5] is 1)
    KEYS[4]    known-good levels: HASH windowMs -> calls in the window the server accepted
    KEYS[5..]  one log per window: ZSET member -> stamp (reply time, or grant + lease)

    ARGV[1]    nowMs, or '' to read Redis TIME
    ARGV[2]    guardMs, added to every window
    ARGV[3]    leaseMs: longest a slot may stay in flight
    ARGV[4]    member id of the new slot (unique)
    ARGV[5]    1: adaptive caps on, 0: off (configured caps only)
    ARGV[6]    most slots in flight above the known-good level (adaptive only)
    ARGV[7]    wait (ms) answered when only that limit refuses: until a call in flight replies
    ARGV[8..]  configured cap, windowMs for each window, in KEYS order

  Output:
    {1, nowMs}    granted; the slot is in flight from nowMs
    {0, waitMs}   refused; waitMs until the pause ends and every window has room, counting
                  slots still in flight as if they settled now (the earliest they can leave)
]]
local rcall = redis.call

local now = tonumber(ARGV[1])
local slack = 60000
if not now then
  local t = rcall('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  slack = 0
end
local guard = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local inflightKey = KEYS[2]
local windowCount = #KEYS - 4
local adaptive = ARGV[5] == '1'

-- Abandoned slots: move them into the window logs, stamped grant + lease.
local stale = rcall('ZRANGEBYSCORE', inflightKey, '-inf', now - lease, 'WITHSCORES')
if #stale > 0 then
  for w = 1, windowCount do
    local args = {}
    for i = 1, #stale, 2 do
      args[#args + 1] = tonumber(stale[i + 1]) + lease
      args[#args + 1] = stale[i]
    end
    rcall('ZADD', KEYS[w + 4], unpack(args))
    rcall('PEXPIRE', KEYS[w + 4], tonumber(ARGV[7 + 2 * w]) + guard + slack)
  end
  rcall('ZREMRANGEBYSCORE', inflightKey, '-inf', now - lease)
end

local wait = 0
local pausedUntil = tonumber(rcall('GET', KEYS[1]))
if pausedUntil and pausedUntil > now then
  wait = pausedUntil - now
end

local inflight = rcall('ZCARD', inflightKey)
local longestSpan = 0
for w = 1, windowCount do
  local key = KEYS[w + 4]
  local cap = tonumber(ARGV[6 + 2 * w])
  local span = tonumber(ARGV[7 + 2 * w]) + guard
  if span > longestSpan then longestSpan = span end
  rcall('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local stamped = rcall('ZCARD', key)
  if adaptive then
    local field = ARGV[7 + 2 * w]
    local effective = tonumber(rcall('HGET', KEYS[3], field))
    -- Above what the server has accepted, probe with few calls at once (ARGV[6]) (dispatch-n.lua too).
    local good = tonumber(rcall('HGET', KEYS[4], field)) or 0
    -- Up to a level a campaign of this budget verified (adapt-read-n.lua), no probing.
    local verified = tonumber(rcall('HGET', KEYS[3], 'verified:' .. field)) or 0
    if verified > good then good = verified end
    if effective and effective < cap then cap = effective end
    if stamped + inflight >= good and inflight >= tonumber(ARGV[6]) then
      if tonumber(ARGV[7]) > wait then wait = tonumber(ARGV[7]) end
    end
  end
  -- 0-based rank of the slot whose leaving makes room for one more call.
  local rank = stamped + inflight - cap
  if rank >= 0 then
    local leaves = now + span
    if rank < stamped then
      leaves = tonumber(rcall('ZRANGE', key, rank, rank, 'WITHSCORES')[2]) + span
    end
    if leaves - now > wait then wait = leaves - now end
  end
end

if wait > 0 then
  return {0, wait}
end
rcall('ZADD', inflightKey, now, ARGV[4])
rcall('PEXPIRE', inflightKey, lease + longestSpan + slack)
return {1, now}
