--[[
  Sets a campaign's priority only where the campaign exists (a second writer never creates a
  stub hash).
  Input:  KEYS[1] campaign hash; ARGV[1] priority
  Output: 1 set, 0 no such campaign.
  Time: reads no clock.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'priority', ARGV[1])
return 1
