--[[
  The budget's admission rule, in one place (issue 26): whether one more call slot fits in a
  budget now, or how long until it does. acquire-n.lua (look-ups, cancels, hunting: one slot)
  and dispatch-n.lua (scans: slots and the devices that spend them) both decide by it, so the
  adaptive caps, the probe limit, the pause and the reserve act the same for every family.

  The rule, for every window of the budget at once:
  - A slot counts from its grant: in flight (counted as if stamped now) until settle-n.lua
    stamps its reply time in every window log. A slot in flight longer than the lease (its
    holder died) moves to the logs stamped grant + lease, an upper bound of when the server can
    have counted it.
  - Nothing before the pause (after a 429) ends.
  - The cap is min(configured, effective): the effective cap (caps hash, written only by the
    adaptive budget, read by every process whatever its own setting) applies wherever it is
    set, floored; the reserve shrinks with it (adjust-caps.ts scaledReserve).
  - Class rank 1 (urgent, and every caller outside the lanes) may use the whole cap; ranks 2
    and 3 (normal, background) only what leaves the reserve free.
  - Adaptive on, the probe limit: at most probeInflight slots in flight at positions of the
    window the server has not been seen to accept. The accepted level is the highest of the
    known-good hash, a level an earlier campaign verified (`verified:<windowMs>` in the caps
    hash) and the adaptive floor (`limits.adaptive.min` scaled to the window: the rule never
    lowers a cap below it, so the configuration vouches that the server takes that many). A
    new slot's position is the window's level when it opens (stamps that will have left by then
    do not count, so a full window at an accepted cap is not taken for a probe); slots in flight
    below the accepted level are not probes and do not count against the limit.

  Why the limit bounds a discovery (issue 17, and the cold start of issue 26): the server
  refuses only calls at positions above its real cap C, and C is at least the accepted level
  (the server accepted that many, or the floor vouches for it). So when our calls first cross C
  at most probeInflight of them are in flight above it: at most probeInflight × 429 before the
  first 429 pauses the budget and lowers its cap. The same bound makes the first window of a
  cold budget paced by its replies: about (cap − floor) / probeInflight reply times. No other
  shape of the limit does better against a cap that may sit anywhere between the floor and the
  configured cap: a limit of k at some level costs k × 429 when C is there, so the fastest
  first window that keeps every discovery within B × 429 is the constant k = B (measured in
  docs/design.md "Adaptive budget", cold start).

  - A budget blocked by its breaker (a tenant-wide fault: credentials, Entra, permission;
    src/lanes/budget-breaker.ts, hash field probeAt) grants nothing before its probe time, then
    one probe, which the grant claims for a lease (probeAt = now + lease), so one caller probes
    at a time whichever family it spends: admissionBlocked and admissionClaimProbe. dispatch-n
    reads the breaker in its own step; breaker-admit-1.lua applies the same two functions for
    acquire-n's callers, whose budget keys sit in another Redis Cluster slot than the breaker.

  The budget table `b` the caller fills: pauseKey, inflightKey, capsKey, goodKey, now, slack
  (script-now.lua), guard, lease, adaptive (boolean), probeInflight, and windows: a list of
  { key, cap, windowMs, reserve, floor } in KEYS order (floor: the adaptive floor, 0 when off);
  breakerKey where the breaker is read.
  admissionOpen adds inflight, pauseWait, longestSpan and, per window, stamped, good and span.
  Time: `b.now`, from script-now.lua (Redis TIME, or nowMs in tests).
]]

-- Abandoned slots count as replied at grant + lease, in every window log.
local function sweepAbandonedSlots(b)
  local stale = redis.call('ZRANGEBYSCORE', b.inflightKey, '-inf', b.now - b.lease, 'WITHSCORES')
  if #stale == 0 then return end
  local args = {}
  for i = 1, #stale, 2 do
    args[#args + 1] = tonumber(stale[i + 1]) + b.lease
    args[#args + 1] = stale[i]
  end
  for _, w in ipairs(b.windows) do
    redis.call('ZADD', w.key, unpack(args))
    redis.call('PEXPIRE', w.key, w.windowMs + b.guard + b.slack)
  end
  redis.call('ZREMRANGEBYSCORE', b.inflightKey, '-inf', b.now - b.lease)
end

-- Reads the budget as the rule needs it (after sweeping abandoned slots).
local function admissionOpen(b)
  sweepAbandonedSlots(b)
  b.pauseWait = 0
  local pausedUntil = tonumber(redis.call('GET', b.pauseKey))
  if pausedUntil and pausedUntil > b.now then b.pauseWait = pausedUntil - b.now end
  b.inflight = redis.call('ZCARD', b.inflightKey)
  b.longestSpan = 0
  for _, w in ipairs(b.windows) do
    local field = tostring(w.windowMs)
    local effective = tonumber(redis.call('HGET', b.capsKey, field))
    if effective and effective < w.cap then
      local lowered = math.max(0, math.floor(effective))
      w.reserve = math.floor(w.reserve * lowered / w.cap)
      w.cap = lowered
    end
    w.good = nil
    if b.adaptive then
      w.good = tonumber(redis.call('HGET', b.goodKey, field)) or 0
      local verified = tonumber(redis.call('HGET', b.capsKey, 'verified:' .. field)) or 0
      if verified > w.good then w.good = verified end
      if (w.floor or 0) > w.good then w.good = w.floor end
    end
    w.span = w.windowMs + b.guard
    if w.span > b.longestSpan then b.longestSpan = w.span end
    redis.call('ZREMRANGEBYSCORE', w.key, '-inf', b.now - w.span)
    w.stamped = redis.call('ZCARD', w.key)
  end
  return b
end

-- How long until one more slot fits for class rank r, with `extra` slots granted in this step
-- already (0: it fits now); and whether the probe limit refuses it (no wait can grant that: a
-- call in flight must reply first). The new slot's position is `level`; of the slots in flight,
-- those at positions good .. level - 1 are probes (all of them, when fewer are in flight).
local function admissionWait(b, r, extra)
  local probed = false
  local wait = b.pauseWait
  for _, w in ipairs(b.windows) do
    local limit = w.cap
    if r > 1 then limit = limit - w.reserve end
    -- 0-based rank of the stamp whose leaving makes room for one more call.
    local k = w.stamped + b.inflight + extra - limit
    local leaves = 0
    local gone = 0 -- stamps gone from the window by the time this slot opens (the k + 1 oldest)
    if k >= 0 then
      if limit <= 0 or k >= w.stamped then
        leaves = w.span
      else
        leaves = tonumber(redis.call('ZRANGE', w.key, k, k, 'WITHSCORES')[2]) + w.span - b.now
        gone = k + 1
      end
    end
    if leaves > wait then wait = leaves end
    local level = w.stamped - gone + b.inflight + extra
    if w.good and level >= w.good
      and math.min(level - w.good, b.inflight + extra) >= b.probeInflight then
      probed = true
    end
  end
  return wait, probed
end

-- Puts a granted slot in flight from now.
local function admissionGrant(b, id)
  redis.call('ZADD', b.inflightKey, b.now, id)
end

-- After the last grant of the script: the in-flight set lives as long as a slot can count.
local function admissionKeep(b)
  redis.call('PEXPIRE', b.inflightKey, b.lease + b.longestSpan + b.slack)
end

-- The breaker: nil while the budget is not blocked; else how long until its probe may go
-- (0: the probe is due now, and the step that grants it must claim it).
local function admissionBlocked(b)
  if not b.breakerKey then return nil end
  local probeAt = tonumber(redis.call('HGET', b.breakerKey, 'probeAt'))
  if not probeAt then return nil end
  return math.max(0, probeAt - b.now)
end

-- Claims a blocked budget's probe for `ms`: no other step, of any family, probes before then.
local function admissionClaimProbe(b, ms)
  redis.call('HSET', b.breakerKey, 'probeAt', b.now + ms)
end
