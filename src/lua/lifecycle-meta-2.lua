--[[
  Fenced write of a campaign's lifecycle fields by the tracker (settled, horizon reached, last
  round), refused as track-statuses-2.lua refuses a stale holder (includes/tracker-fence.lua).
  Input:
    KEYS[1] the campaign's lifecycle hash, KEYS[2] the campaign's fences (HASH lock key -> token)
    ARGV[1] lock key, ARGV[2] lock value (`owner:token`), then field, value, ...
  Output: 1 written, -1 a later holder of the lock has written here.
  Time: reads no clock (the fields carry the caller's times).
]]
--- @include "includes/tracker-fence"
if not trackerFenceHolds(KEYS[2], ARGV[1], ARGV[2]) then return -1 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
