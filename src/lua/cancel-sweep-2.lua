--[[
  One page of a cancel sweep: HSCAN the devices hash from a cursor and cancel, in this same
  script, those that are still queued or deferred. The client loops over the cursor, so a
  200,000-device campaign is a few hundred short scripts (Redis stays responsive between them)
  and no record travels to the client and back.
  Input:  KEYS[1] devices hash, KEYS[2] counts hash; ARGV[1] HSCAN cursor, ARGV[2] COUNT hint
  Output: { next cursor ('0' when the sweep is done), devices moved to cancelled }
  HSCAN may return a field twice while the hash is resized: the second time it is already
  cancelled and so not counted again.
  Time: reads no clock.
]]
--- @include "includes/cancel-waiting"
local rcall = redis.call
local devicesKey, countsKey = KEYS[1], KEYS[2]
local page = rcall('HSCAN', devicesKey, ARGV[1], 'COUNT', ARGV[2])
local flat = page[2]
local fromQueued, fromDeferred = 0, 0
for i = 1, #flat, 2 do
  local json = flat[i + 1]
  -- A cheap look first: most records of a waiting campaign are `{"s":"q"}`, the rest are skipped.
  if string.find(json, '"s":"[qd]"') then
    local d = cjson.decode(json)
    local from = cancelIfWaiting(d)
    if from then
      if from == 'q' then fromQueued = fromQueued + 1 else fromDeferred = fromDeferred + 1 end
      rcall('HSET', devicesKey, flat[i], cjson.encode(d))
    end
  end
end
countCancelled(countsKey, fromQueued, fromDeferred)
return { page[1], fromQueued + fromDeferred }
