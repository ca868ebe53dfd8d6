--[[
  Changes a campaign's state along the allowed moves, then applies the finished rule.
    running -> paused | cancelled | finished      paused -> running | cancelled | finished
    cancelled and finished are final (a finished campaign runs again only when devices are added
    or its intake is opened again).
  ARGV[1] = 'close-intake' | 'open-intake' instead of a state closes / opens the intake (while
  open, `fleetscan scan` is still adding devices and the campaign cannot finish).
  Input:  KEYS[1] campaign hash, KEYS[2] counts hash; ARGV[1] target state or intake operation
  Output: { previous state, state now }; false when the campaign is unknown.
  Time: finishedAt is Redis TIME (one clock for every host); it is also the moment of a cancel.
]]
local rcall = redis.call
local campaignKey, countsKey = KEYS[1], KEYS[2]
local previous = rcall('HGET', campaignKey, 'state')
if not previous then return false end
local target = ARGV[1]
local state = previous

local function now()
  local t = rcall('TIME')
  return tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end

local live = previous == 'running' or previous == 'paused'
if target == 'close-intake' then
  rcall('HDEL', campaignKey, 'open')
elseif target == 'open-intake' then
  -- A re-run of `scan --campaign-id` on a finished campaign reopens it while it adds devices;
  -- closing the intake finishes it again if nothing new came.
  if previous == 'finished' then
    state = 'running'
    rcall('HSET', campaignKey, 'state', state)
    rcall('HDEL', campaignKey, 'finishedAt')
    live = true
  end
  if live then rcall('HSET', campaignKey, 'open', '1') end
elseif live and target ~= previous then
  if target == 'running' or target == 'paused' then
    state = target
    rcall('HSET', campaignKey, 'state', state)
  elseif target == 'finished' or target == 'cancelled' then
    state = target
    rcall('HSET', campaignKey, 'state', state, 'finishedAt', now())
  end
end

if (state == 'running' or state == 'paused') and rcall('HEXISTS', campaignKey, 'open') == 0 then
  local left = tonumber(rcall('HGET', countsKey, 'queued') or '0')
    + tonumber(rcall('HGET', countsKey, 'deferred') or '0')
  if left <= 0 then
    state = 'finished'
    rcall('HSET', campaignKey, 'state', state, 'finishedAt', now())
  end
end
return { previous, state }
