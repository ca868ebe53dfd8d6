--[[
  Changes a campaign's state along the allowed moves, then applies the finished rule.
    running -> paused | cancelled | finished      paused -> running | cancelled | finished
    cancelled and finished are final (a finished campaign runs again only when devices are added
    or its intake is opened again).
  ARGV[1] = 'open-intake' | 'renew-intake' | 'close-intake' instead of a state opens, renews or
  closes one intake, ARGV[2] its id, ARGV[3] its lease (ms). The intake is counted: every open
  `fleetscan scan` (or retry) holds one, as field `intake:<id>` = lease end (Redis TIME ms), and
  `open` = how many are live; the campaign cannot finish while any is. A process that died
  holding one loses it when its lease ends (purged here and by transition-3.lua).
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

local function nowMs()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function now() return tostring(nowMs()) end

-- Drops intakes whose lease ended and sets `open` to the live ones (absent at 0). The same
-- function is in transition-3.lua: keep them alike.
local function countIntakes()
  local at = nowMs()
  local fields = rcall('HGETALL', campaignKey)
  local live = 0
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 7) == 'intake:' then
      if tonumber(fields[i + 1]) <= at then rcall('HDEL', campaignKey, fields[i]) else live = live + 1 end
    end
  end
  if live > 0 then rcall('HSET', campaignKey, 'open', live) else rcall('HDEL', campaignKey, 'open') end
  return live
end

local live = previous == 'running' or previous == 'paused'
if target == 'close-intake' then
  rcall('HDEL', campaignKey, 'intake:' .. ARGV[2])
  countIntakes()
elseif target == 'renew-intake' then
  if live and rcall('HEXISTS', campaignKey, 'intake:' .. ARGV[2]) == 1 then
    rcall('HSET', campaignKey, 'intake:' .. ARGV[2], nowMs() + tonumber(ARGV[3]))
  end
elseif target == 'open-intake' then
  -- A re-run of `scan --campaign-id` on a finished campaign reopens it while it adds devices;
  -- closing the intake finishes it again if nothing new came.
  if previous == 'finished' then
    state = 'running'
    rcall('HSET', campaignKey, 'state', state)
    rcall('HDEL', campaignKey, 'finishedAt')
    live = true
  end
  if live then
    rcall('HSET', campaignKey, 'intake:' .. ARGV[2], nowMs() + tonumber(ARGV[3]))
    countIntakes()
  end
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
