--[[
  One step of a budget's dispatch: grants a call slot AND picks the device that spends it, in
  one atomic step, so nothing ever waits in a queue for a slot it cannot have.
  "-n": 12 fixed keys + one log per window. Every key carries the budget's hash tag.

  A budget blocked by its breaker (a tenant-wide fault: credentials, Entra, permission; see
  budget-breaker.ts) grants nothing but one probe turn at its probe time (the admission rule's
  admissionBlocked); the probe is claimed for one device lease, so a probing process that dies
  is replaced after that.

  Order of the pick: the highest class with a ready device (urgent, normal, background); within
  a class, campaigns take turns (round-robin: the campaign served longest ago goes next); within
  a campaign, devices returned to the line (due again, recovered, held) first, then in the order
  they were added. `normal` and `background` take a slot only if the reserve stays free in every
  window afterwards; `urgent` may use the whole (effective) cap. Under a cap the adaptive budget
  lowered, the reserve is scaled by effective / configured.

  Before picking: devices whose lease ran out (their process died) and deferred devices that are
  due go back to their campaign's ready set; a campaign that is paused or gone is not in any
  round-robin set, so its devices wait (gone: dropped).

  Time: Redis TIME; tests with simulated time pass nowMs in ARGV[1] (slot TTLs get 60 s slack).

  Input:
    KEYS[1]  budget pause flag            KEYS[2]  budget in-flight slots (ZSET id -> grant)
    KEYS[3]  budget effective caps (HASH windowMs -> cap, optional; verified:<windowMs> -> level)
    KEYS[4]  lane due (ZSET "cid.mid" -> due ms)
    KEYS[5]  lane active (ZSET "cid.mid" -> lease end ms)
    KEYS[6..8] lane round-robin of urgent, normal, background (ZSET cid -> turn)
    KEYS[9]  lane campaigns (HASH cid -> class, or "p:" .. class while paused; "~turn", "~seq")
    KEYS[10] lane tries (HASH "cid.mid" -> failed attempts)
    KEYS[11] budget known-good levels (HASH windowMs -> calls the server accepted; adaptive)
    KEYS[12] budget breaker (HASH reason, probeAt...; absent = not blocked)
    KEYS[13..] budget window logs (ZSET id -> stamp), shortest window first
    ARGV[1] nowMs or ''   ARGV[2] guardMs   ARGV[3] slot leaseMs   ARGV[4] device leaseMs
    ARGV[5] permit id prefix (slot i's id = prefix .. i)
    ARGV[6] ready key prefix (ready set of a campaign = prefix .. cid)
    ARGV[7] most slots to grant in this step (the caller's free places)
    ARGV[8] 1: adaptive probe limit on (as acquire-n.lua), 0: off
    ARGV[9] most probe slots in flight: above the accepted level (adaptive only)
    ARGV[10] wait (ms) answered when only that limit refuses
    ARGV[11] lookahead (ms): a slot that opens within this much is granted now, with its wait,
             so the device's turn does its reads before the slot opens and calls the moment it
             does (the caller must not call before nowMs + wait); 0: only slots open now
    ARGV[12..] cap, windowMs, reserve, adaptive floor (the level the probe limit takes as
             accepted; 0 when off) for each window, in KEYS order
  Output:
    {1, nowMs, campaignId, machineId, tries, waitMs, ...}   granted (one quadruple per slot, in
                  order): each slot is in flight from nowMs under id prefix .. i and may be
                  spent waitMs after nowMs (0: at once)
    {2, nowMs, campaignId, machineId, tries, waitMs}   the probe turn of a blocked budget (one slot)
    {0, waitMs}   nothing may go now: waitMs until the next slot (for the best class waiting),
                  the next due device or lease end, whichever is first; -1: nothing waits at all
]]
--- @include "includes/script-now"
--- @include "includes/budget-admission"
local rcall = redis.call
local now, slack = scriptNow(ARGV[1])
local guard, lease, deviceLease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local permitPrefix, readyPrefix = ARGV[5], ARGV[6]
local most = math.max(1, tonumber(ARGV[7]) or 1)
local pauseKey, inflightKey, capsKey, dueKey, activeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local rr = { KEYS[6], KEYS[7], KEYS[8] }
local campaignsKey, triesKey = KEYS[9], KEYS[10]
local rank = { urgent = 1, normal = 2, background = 3 }
local goodKey = KEYS[11]
local adaptive = ARGV[8] == '1'
local probeInflight, probeWait = tonumber(ARGV[9]) or 0, tonumber(ARGV[10]) or 0
local breakerKey = KEYS[12]
local lookahead = tonumber(ARGV[11]) or 0
local windowCount = #KEYS - 12

-- A device back in its campaign's ready set, ahead of the ones never tried.
local function makeReady(member)
  local dot = string.find(member, '.', 1, true)
  local cid, mid = string.sub(member, 1, dot - 1), string.sub(member, dot + 1)
  local class = rcall('HGET', campaignsKey, cid)
  if not class then
    rcall('HDEL', triesKey, member) -- cancelled: its device records say so already
    return
  end
  rcall('ZADD', readyPrefix .. cid, 0, mid)
  local r = rank[class]
  if r then rcall('ZADD', rr[r], 'NX', rcall('HINCRBY', campaignsKey, '~turn', 0), cid) end
end

-- Devices of a process that died (lease over) count one attempt and come back.
local expired = rcall('ZRANGEBYSCORE', activeKey, '-inf', now, 'LIMIT', 0, 100)
for i = 1, #expired do
  rcall('ZREM', activeKey, expired[i])
  rcall('HINCRBY', triesKey, expired[i], 1)
  makeReady(expired[i])
end
local due = rcall('ZRANGEBYSCORE', dueKey, '-inf', now, 'LIMIT', 0, 100)
for i = 1, #due do
  rcall('ZREM', dueKey, due[i])
  makeReady(due[i])
end

-- The budget, by the admission rule every family shares (includes/budget-admission.lua).
local windows = {}
for w = 1, windowCount do
  windows[w] = { key = KEYS[w + 12], cap = tonumber(ARGV[8 + 4 * w]),
    windowMs = tonumber(ARGV[9 + 4 * w]), reserve = tonumber(ARGV[10 + 4 * w]),
    floor = tonumber(ARGV[11 + 4 * w]) }
end

-- A blocked budget: nothing before the probe time, then one turn (the probe), claimed.
local blockedFor = admissionBlocked({ breakerKey = breakerKey, now = now })
local probing = false
if blockedFor then
  if blockedFor > 0 then return { 0, blockedFor } end
  probing = true
  most = 1
end
local budget = admissionOpen({ pauseKey = pauseKey, inflightKey = inflightKey, capsKey = capsKey,
  goodKey = goodKey, now = now, slack = slack, guard = guard, lease = lease, adaptive = adaptive,
  probeInflight = probeInflight, windows = windows, breakerKey = breakerKey })

local function nextEvent()
  local first = nil
  for _, key in ipairs({ dueKey, activeKey }) do
    local head = rcall('ZRANGE', key, 0, 0, 'WITHSCORES')
    if head[2] then
      local at = tonumber(head[2])
      if first == nil or at < first then first = at end
    end
  end
  return first
end

local out = { 1, now }
local granted = 0
local blockedWait = nil
while granted < most and blockedWait == nil do
  local picked = false
  for r = 1, 3 do
    for _ = 1, 10 do
      local cid = rcall('ZRANGE', rr[r], 0, 0)[1]
      if not cid then break end
      local wait, probed = admissionWait(budget, r, granted)
      if probed then
        blockedWait = math.max(wait, probeWait, 1)
        break
      end
      if wait > lookahead then
        blockedWait = wait
        break
      end
      local readyKey = readyPrefix .. cid
      local popped = rcall('ZPOPMIN', readyKey)
      if rcall('EXISTS', readyKey) == 0 then
        rcall('ZREM', rr[r], cid)
      else
        rcall('ZADD', rr[r], rcall('HINCRBY', campaignsKey, '~turn', 1), cid)
      end
      local mid = popped[1]
      if mid then
        local member = cid .. '.' .. mid
        granted = granted + 1
        admissionGrant(budget, permitPrefix .. granted)
        rcall('ZADD', activeKey, now + deviceLease, member)
        out[#out + 1] = cid
        out[#out + 1] = mid
        out[#out + 1] = tonumber(rcall('HGET', triesKey, member) or '0')
        out[#out + 1] = wait
        picked = true
        break
      end
    end
    if picked or blockedWait then break end
  end
  if not picked then break end
end

if granted > 0 then
  admissionKeep(budget)
  if probing then
    admissionClaimProbe(budget, deviceLease)
    out[1] = 2
  end
  return out
end
local event = nextEvent()
if blockedWait then
  if event and event - now < blockedWait then return { 0, math.max(1, event - now) } end
  return { 0, blockedWait }
end
if event then return { 0, math.max(1, event - now) } end
return { 0, -1 }
