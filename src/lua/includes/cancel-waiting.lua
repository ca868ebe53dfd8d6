--[[
  Cancelling a device that still waits (cancel-devices-2.lua, cancel-sweep-2.lua): queued or
  deferred devices move to cancelled, the per-state counts follow in one step.
]]

-- Moves the decoded record to cancelled if it waits: its former state ('q' or 'd'), else nil.
local function cancelIfWaiting(d)
  local from = d.s
  if from ~= 'q' and from ~= 'd' then return nil end
  d.s = 'c'
  d.u = nil
  return from
end

-- The counts after moving that many queued and deferred devices to cancelled.
local function countCancelled(countsKey, fromQueued, fromDeferred)
  -- Only non-zero amounts: Lua formats -0 as "-0", which HINCRBY refuses.
  if fromQueued > 0 then redis.call('HINCRBY', countsKey, 'queued', 0 - fromQueued) end
  if fromDeferred > 0 then redis.call('HINCRBY', countsKey, 'deferred', 0 - fromDeferred) end
  if fromQueued + fromDeferred > 0 then
    redis.call('HINCRBY', countsKey, 'cancelled', fromQueued + fromDeferred)
  end
end
