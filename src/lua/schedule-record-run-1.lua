--[[
  Counts a run of a schedule, unless the schedule was removed meanwhile (it must not come back
  half).
  Input:  KEYS[1] schedule hash; ARGV[1] campaign id
  Output: 1 counted, 0 the schedule is gone.
  Time: reads no clock.
]]
if redis.call('HEXISTS', KEYS[1], 'spec') == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'runs', 1)
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'lastCampaignId', ARGV[1])
return 1
