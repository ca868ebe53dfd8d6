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
--- @include "includes/script-now"
--- @include "includes/count-intakes"
local rcall = redis.call
local campaignKey, countsKey = KEYS[1], KEYS[2]
local previous = rcall('HGET', campaignKey, 'state')
if not previous then return false end
local target = ARGV[1]
local state = previous

local function now() return tostring(redisTimeMs()) end

local live = previous == 'running' or previous == 'paused'
if target == 'close-intake' then
  rcall('HDEL', campaignKey, 'intake:' .. ARGV[2])
  countIntakes(campaignKey, redisTimeMs())
elseif target == 'renew-intake' then
  if live and rcall('HEXISTS', campaignKey, 'intake:' .. ARGV[2]) == 1 then
    rcall('HSET', campaignKey, 'intake:' .. ARGV[2], redisTimeMs() + tonumber(ARGV[3]))
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
    rcall('HSET', campaignKey, 'intake:' .. ARGV[2], redisTimeMs() + tonumber(ARGV[3]))
    countIntakes(campaignKey, redisTimeMs())
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
