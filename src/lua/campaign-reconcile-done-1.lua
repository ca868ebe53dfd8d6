--[[
  Ends a campaign's reconcile request, only if no new one came since the pass began (the
  generation it read): a request made during the pass keeps the campaign marked.
  Input:  KEYS[1] campaign hash; ARGV[1] the reconcile generation the pass handled
  Output: 1 ended, 0 another request came meanwhile (or none was open).
  Time: reads no clock.
]]
if redis.call('HGET', KEYS[1], 'reconcile') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'reconcile')
return 1
