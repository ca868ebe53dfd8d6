--[[
  Puts devices of one campaign in its budget's line: ready now, or due at a time (deferred).
  Idempotent: a device already ready, due or in progress is left where it is, so a re-run of an
  interrupted `scan --campaign-id` or a repeated `resume` doubles nothing. Wakes the dispatchers.
  All keys are under the budget's hash tag.

  Input:
    KEYS[1] lane campaigns (HASH)  KEYS[2] due (ZSET)  KEYS[3] active (ZSET)
    KEYS[4..6] round-robin urgent, normal, background   KEYS[7] the campaign's ready set (ZSET)
    ARGV[1] campaign id   ARGV[2] class   ARGV[3] 1 when the campaign is paused
    ARGV[4] wake channel  ARGV[5] wake message
    ARGV[6..] machine id, due ms (0 = ready now), ...
  Output: how many devices were put in the line.
  Time: reads no clock; due times come from the caller (ms).
]]
local rcall = redis.call
local campaignsKey, dueKey, activeKey, readyKey = KEYS[1], KEYS[2], KEYS[3], KEYS[7]
local rr = { urgent = KEYS[4], normal = KEYS[5], background = KEYS[6] }
local cid, class = ARGV[1], ARGV[2]
if not rr[class] then return redis.error_reply('unknown class ' .. tostring(class)) end
if ARGV[3] == '1' then
  rcall('HSETNX', campaignsKey, cid, 'p:' .. class)
else
  rcall('HSETNX', campaignsKey, cid, class)
end

local n = (#ARGV - 5) / 2
local seq = rcall('HINCRBY', campaignsKey, '~seq', n) - n
local pushed = 0
for i = 6, #ARGV, 2 do
  local mid, dueAt = ARGV[i], tonumber(ARGV[i + 1])
  local member = cid .. '.' .. mid
  if not rcall('ZSCORE', activeKey, member) and not rcall('ZSCORE', dueKey, member)
    and not rcall('ZSCORE', readyKey, mid) then
    seq = seq + 1
    if dueAt > 0 then
      pushed = pushed + rcall('ZADD', dueKey, 'NX', dueAt, member)
    else
      pushed = pushed + rcall('ZADD', readyKey, seq, mid)
    end
  end
end

local current = rcall('HGET', campaignsKey, cid)
if rr[current] and rcall('EXISTS', readyKey) == 1 then
  rcall('ZADD', rr[current], 'NX', rcall('HINCRBY', campaignsKey, '~turn', 0), cid)
end
if pushed > 0 then rcall('PUBLISH', ARGV[4], ARGV[5]) end
return pushed
