--[[
  Ends a dispatched device's turn: done, due again at a time (busy, backoff, a held lookup), or
  back at the front of its campaign's ready set (held: the budget or the campaign is paused).
  A device whose lease ran out meanwhile was already given back by dispatch-n.lua: then nothing
  moves (it is being, or will be, dispatched again and looks its action up first).
  All keys are under the budget's hash tag.

  Input:
    KEYS[1] lane campaigns (HASH)  KEYS[2] due (ZSET)  KEYS[3] active (ZSET)  KEYS[4] tries (HASH)
    KEYS[5..7] round-robin urgent, normal, background   KEYS[8] the campaign's ready set
    ARGV[1] campaign id  ARGV[2] machine id  ARGV[3] done | due | hold
    ARGV[4] due ms (due)  ARGV[5] 1 when the turn spent an attempt (due)
    ARGV[6] 'in': ARGV[4] is a delay from Redis TIME; else ARGV[4] is a time on the clock the
            tests pass to every script. Production sends delays: a worker's wall clock may be
            seconds off the other hosts', and dispatch-n.lua compares due times with Redis TIME.
  Output: 1 when the device was still this process's, else 0.
  Time: Redis TIME when ARGV[6] is 'in' (production), else the due time the caller passes.
]]
--- @include "includes/script-now"
local rcall = redis.call
local campaignsKey, dueKey, activeKey, triesKey, readyKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8]
local rr = { urgent = KEYS[5], normal = KEYS[6], background = KEYS[7] }
local cid, mid, how = ARGV[1], ARGV[2], ARGV[3]
local member = cid .. '.' .. mid
if rcall('ZREM', activeKey, member) == 0 then return 0 end
if how == 'done' then
  rcall('HDEL', triesKey, member)
elseif how == 'due' then
  if ARGV[5] == '1' then rcall('HINCRBY', triesKey, member, 1) end
  local due = tonumber(ARGV[4])
  if ARGV[6] == 'in' then due = due + redisTimeMs() end
  rcall('ZADD', dueKey, due, member)
elseif how == 'hold' then
  local class = rcall('HGET', campaignsKey, cid)
  if class then
    rcall('ZADD', readyKey, 0, mid)
    if rr[class] then
      rcall('ZADD', rr[class], 'NX', rcall('HINCRBY', campaignsKey, '~turn', 0), cid)
    end
  end
else
  return redis.error_reply('unknown end ' .. tostring(how))
end
return 1
