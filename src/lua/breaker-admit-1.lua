--[[
  The breaker part of the admission rule (includes/budget-admission.lua) for the callers of
  acquire-n.lua (the tracker's look-ups, cancels, List Machines, hunting): dispatch-n.lua reads
  the breaker in its grant step, but acquire-n's budget keys (`{budgetId:family}`) sit in
  another Redis Cluster slot than the breaker (`lane:{budgetId:scan}`), so the limiter asks
  here, beside acquire-n. A blocked budget grants nothing before its probe time, then one probe,
  claimed for ARGV[2] ms so that one caller of any family probes at a time.

  Input:
    KEYS[1]  breaker: HASH reason, message, since, probeAt, failures (absent: not blocked)
    ARGV[1]  nowMs, or '' to read Redis TIME
    ARGV[2]  claim (ms): > 0 claims a probe that is due for that long; 0 only looks

  Output:
    {1}            not blocked
    {0, waitMs}    blocked: waitMs until its probe may go
    {2, nowMs}     blocked and the probe is due: claimed until nowMs + claim (or, with claim 0,
                   free to claim)

  Time: Redis TIME (includes/script-now.lua); tests with simulated time pass nowMs in ARGV[1].
]]
--- @include "includes/script-now"
--- @include "includes/budget-admission"
local now = scriptNow(ARGV[1])
local budget = { breakerKey = KEYS[1], now = now }
local blockedFor = admissionBlocked(budget)
if not blockedFor then return { 1 } end
if blockedFor > 0 then return { 0, blockedFor } end
local claim = tonumber(ARGV[2]) or 0
if claim > 0 then admissionClaimProbe(budget, claim) end
return { 2, now }
