--[[
  The campaign's fence against a stale tracker (track-statuses-2.lua, lifecycle-meta-2.lua):
  the campaign keeps, per lock key, the highest fencing token that wrote to it; a write with a
  lower token is refused (a later holder of the lock has written here), a higher one raises it.
  Lock value `<owner>:<token>` (lock-take-fenced-2.lua).
]]
local function trackerFenceHolds(fencesKey, lockKey, lockValue)
  local mine = tonumber(string.match(lockValue, ':(%d+)$'))
  local seen = tonumber(redis.call('HGET', fencesKey, lockKey) or '0')
  if mine == nil or seen > mine then return false end
  if seen < mine then redis.call('HSET', fencesKey, lockKey, mine) end
  return true
end
