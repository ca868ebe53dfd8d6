--[[
  Moves one device of a campaign to a new state, keeping the per-state counts exact (old state
  -1, new state +1), then marks the campaign finished when nothing is queued or deferred any more.
  Idempotent: a move that is not allowed from the current state leaves everything as it is.

  Input:
    KEYS[1] campaign hash, KEYS[2] devices hash (machineId -> compact JSON), KEYS[3] counts hash
    ARGV[1] machineId
    ARGV[2] operation, then its arguments:
      sent      ARGV[3] at                       queued/deferred: attempts + 1, sentAt = at, and
                ARGV[4] run_id, or ''            deferredUntil dropped (the wait is over; a
                ARGV[5] 1: unless maybe sent     crash now must not look like a busy answer).
                                                 A previous send with no answer makes the
                                                 ambiguous marker `m` sticky (until recorded).
                                                 Refused (error RECONCILE) while the campaign's
                                                 records may be incomplete: its `reconcile` is
                                                 set, or Redis restarted since the campaign last
                                                 saw it (`run` is not this server's run_id: the
                                                 last writes may have been rolled back). The
                                                 caller passes the run_id it read when its
                                                 connection opened (server-run.ts); '' reads it
                                                 here (INFO, costly on every call). With ARGV[5]
                                                 1, refused (error MAYBE_SENT) when an earlier
                                                 call may have reached the API: the read and
                                                 the mark of a device's turn in one step.
      answered                                   queued/deferred: the last send got an answer
                                                 that created nothing (429): sentAt dropped
      requested ARGV[3] actionId ARGV[4] status  every state but requested (a device keeps its
                ARGV[5] creationDateTimeUtc      first action; a cancelled or failed device whose
                ARGV[6] joined 0|1 ARGV[7] at    call went out anyway records the truth)
      deferred  ARGV[3] until ARGV[4] at         queued/deferred; the same `until` twice counts once
      queued                                     deferred -> queued
      failed    ARGV[3] reason                   queued/deferred; the first reason stays
      cancelled                                  queued/deferred
  Output: the device's compact JSON after the call; false when the device is unknown.
  Time: every `at` comes from the caller (the worker's clock); `finishedAt` is Redis TIME, so
  the campaign's end is stamped on one clock whichever host saw the last device.
]]
--- @include "includes/script-now"
--- @include "includes/count-intakes"
local rcall = redis.call
local campaignKey, devicesKey, countsKey = KEYS[1], KEYS[2], KEYS[3]
local machineId, op = ARGV[1], ARGV[2]

local json = rcall('HGET', devicesKey, machineId)
if not json then return false end
local d = cjson.decode(json)
local from = d.s
local waiting = from == 'q' or from == 'd'
local names = { q = 'queued', d = 'deferred', r = 'requested', f = 'failed', c = 'cancelled' }

local function failRemove()
  if from == 'f' and d.r then
    local field = 'fail:' .. d.r
    if rcall('HINCRBY', countsKey, field, -1) <= 0 then rcall('HDEL', countsKey, field) end
    d.r = nil
  end
end

local to = from
if op == 'sent' then
  if waiting then
    if rcall('EXISTS', campaignKey) == 0 then return redis.error_reply('UNKNOWN_CAMPAIGN') end
    local run = ARGV[4]
    if not run or run == '' then run = string.match(rcall('INFO', 'server'), 'run_id:(%w+)') end
    if rcall('HGET', campaignKey, 'run') ~= run then
      rcall('HSET', campaignKey, 'run', run)
      rcall('HINCRBY', campaignKey, 'reconcile', 1)
    end
    if rcall('HEXISTS', campaignKey, 'reconcile') == 1 then
      return redis.error_reply('RECONCILE campaign records may be incomplete')
    end
    -- The previous send was never answered (no busy answer after it): it may have reached the
    -- API, and stays "maybe sent" until an action is recorded.
    local unanswered = d.x and not (from == 'd' and d.u and d.x < d.u)
    if ARGV[5] == '1' and (d.m or unanswered) then
      return redis.error_reply('MAYBE_SENT an earlier call may have reached the API')
    end
    if unanswered then d.m = 1 end
    d.n = (d.n or 0) + 1
    d.x = tonumber(ARGV[3])
    d.u = nil
  end
elseif op == 'answered' then
  if waiting then d.x = nil end
elseif op == 'requested' then
  if from ~= 'r' then
    failRemove()
    d.m = nil
    to = 'r'
    d.a, d.v, d.c, d.t = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[7])
    if d.c == '' then d.c = nil end
    if ARGV[6] == '1' then
      d.j = 1
      rcall('HINCRBY', countsKey, 'joined', 1)
    end
    d.u = nil
  end
elseif op == 'deferred' then
  local untilMs = tonumber(ARGV[3])
  if waiting and not (from == 'd' and d.u == untilMs) then
    to = 'd'
    d.u = untilMs
    if not d.b then d.b = tonumber(ARGV[4]) end
    rcall('HINCRBY', countsKey, 'deferrals', 1)
  end
elseif op == 'queued' then
  if from == 'd' then
    to = 'q'
    d.u = nil
  end
elseif op == 'failed' then
  if waiting then
    to = 'f'
    d.r = ARGV[3]
    d.u = nil
    rcall('HINCRBY', countsKey, 'fail:' .. ARGV[3], 1)
  end
elseif op == 'cancelled' then
  if waiting then
    to = 'c'
    d.u = nil
  end
else
  return redis.error_reply('unknown operation ' .. tostring(op))
end

d.s = to
local out = cjson.encode(d)
if out ~= json then rcall('HSET', devicesKey, machineId, out) end
if to ~= from then
  rcall('HINCRBY', countsKey, names[from], -1)
  rcall('HINCRBY', countsKey, names[to], 1)
  -- Finished: nothing left to call for, every intake is closed, and nobody cancelled it.
  local state = rcall('HGET', campaignKey, 'state')
  local left = tonumber(rcall('HGET', countsKey, 'queued') or '0')
    + tonumber(rcall('HGET', countsKey, 'deferred') or '0')
  if (state == 'running' or state == 'paused') and left <= 0 then
    local at = redisTimeMs()
    -- An intake whose process died ends with its lease.
    if rcall('HEXISTS', campaignKey, 'open') == 1 then countIntakes(campaignKey, at) end
    if rcall('HEXISTS', campaignKey, 'open') == 0 then
      rcall('HSET', campaignKey, 'state', 'finished', 'finishedAt', tostring(at))
    end
  end
end
return out
