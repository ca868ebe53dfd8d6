--[[
  Asks for a reconcile pass of a campaign (a re-run that found it lost, a rolled-back store):
  bumps its `reconcile` generation, never creating a stub hash for a campaign that is gone.
  Input:  KEYS[1] campaign hash
  Output: 1 asked, 0 no such campaign.
  Time: reads no clock.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'reconcile', 1)
return 1
