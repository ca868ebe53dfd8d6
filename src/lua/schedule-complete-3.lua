--[[
  Records the outcome of a claimed run and clears the claim, once: only while the schedule's
  `pending` field still holds exactly ARGV[1] (a second process completing the same claim, or a
  stale holder waking up after another completed it, changes nothing). A started run is counted
  and remembered as the last one.
  Input:
    KEYS[1] schedule hash, KEYS[2] history list, KEYS[3] fires-by-outcome hash
    ARGV[1] pending JSON, ARGV[2] outcome, ARGV[3] entry JSON, ARGV[4] campaign id ('' for
    none), ARGV[5] history limit
  Output: 1 recorded, 0 not (already completed, or the schedule was removed).
  Time: reads no clock.
]]
local rcall = redis.call
if rcall('HGET', KEYS[1], 'pending') ~= ARGV[1] then return 0 end
rcall('HSET', KEYS[1], 'pending', '')
rcall('HINCRBY', KEYS[1], 'version', 1)
if ARGV[2] == 'started' and ARGV[4] ~= '' then
  rcall('HINCRBY', KEYS[1], 'runs', 1)
  rcall('HSET', KEYS[1], 'lastCampaignId', ARGV[4])
end
rcall('LPUSH', KEYS[2], ARGV[3])
rcall('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
rcall('HINCRBY', KEYS[3], ARGV[2], 1)
return 1
