--[[
  Cancels the given devices of a cancelled campaign that are still queued or deferred (a sweep
  over HSCAN pages, so a 100,000-device campaign is never handled in one long script).
  Input:  KEYS[1] devices hash, KEYS[2] counts hash; ARGV[1..n] machine ids
  Output: the ids that moved to cancelled.
  Time: reads no clock.
]]
--- @include "includes/cancel-waiting"
local rcall = redis.call
local devicesKey, countsKey = KEYS[1], KEYS[2]
local moved, fromQueued, fromDeferred = {}, 0, 0
for i = 1, #ARGV do
  local json = rcall('HGET', devicesKey, ARGV[i])
  if json then
    local d = cjson.decode(json)
    local from = cancelIfWaiting(d)
    if from then
      if from == 'q' then fromQueued = fromQueued + 1 else fromDeferred = fromDeferred + 1 end
      rcall('HSET', devicesKey, ARGV[i], cjson.encode(d))
      moved[#moved + 1] = ARGV[i]
    end
  end
end
countCancelled(countsKey, fromQueued, fromDeferred)
return moved
