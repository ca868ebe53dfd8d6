--[[
  The campaign's open intakes (`intake:<id>` = lease end, Redis TIME ms): drops those whose
  lease ended at `at` (their process died) and sets `open` to the live ones (absent at 0).
  Used by set-state-2.lua and transition-3.lua; the campaign cannot finish while one is live.
]]
local function countIntakes(campaignKey, at)
  local fields = redis.call('HGETALL', campaignKey)
  local live = 0
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 7) == 'intake:' then
      if tonumber(fields[i + 1]) <= at then redis.call('HDEL', campaignKey, fields[i]) else live = live + 1 end
    end
  end
  if live > 0 then redis.call('HSET', campaignKey, 'open', live) else redis.call('HDEL', campaignKey, 'open') end
  return live
end
