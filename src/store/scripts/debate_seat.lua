-- Seat an agent at the oldest open debate whose clock has not run out (not started, paused, or
-- before its deadline), where it has no seat
-- and no vote and whose live seats (with a vote, held by a debater whose heartbeat is live, or
-- taken less than the seat TTL ago) are fewer than the quorum until the quorum has voted, then
-- fewer than the panel, and whose votes do not settle it already (decided()). Seats that are
-- not live are removed on the way (their debater died without the reaper seeing it).
-- A debate's clock starts with its first seat (the deadline counts from when the debate could
-- run, not from when it waited for a free debater) and stands still while it is paused (its
-- debaters were deferred by the budget or an outage, debate_unseat.lua): the time it stood is
-- added to its deadline when the next debater sits down.
-- Open debates are taken highest priority first, then oldest (the order of the open index).
-- Backpressure: while the queue the debated stories go on to is full (the gate; the debates
-- under way count as in it already), only debates already started take a debater; none is
-- started. A debate whose story has ended (expired
-- while it waited) seats nobody: no money goes to it.
-- ARGV: prefix, agent, seat TTL ms, how many of the first open debates to look at, the
--       registry's set of agents (heartbeat expiry per agent), the gate: the key of the depth,
--       its field ('' : a sorted set's size), the high-water mark (0: none) and the flow
--       stage's name (held there: nr:bb:flow held:<name>).
-- Returns {1, now, full debate} or {0}.
local agent, ttl, scan, REG = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = now_ms()
local held = false
local hwm = tonumber(ARGV[8] or '0') or 0
local open = redis.call('ZRANGE', OPEN, 0, scan - 1)
if hwm > 0 and ARGV[6] ~= '' then
  local d
  if ARGV[7] == '' then
    d = redis.call('ZCARD', ARGV[6])
  else
    d = tonumber(redis.call('HGET', ARGV[6], ARGV[7]) or '0') or 0
  end
  -- The debates under way go there too once closed: they count as already there.
  for _, id in ipairs(open) do
    if d >= hwm then break end
    local f = redis.call('HMGET', D .. id, 'state', 'started')
    if f[1] == 'open' and f[2] then d = d + 1 end
  end
  held = d >= hwm
  -- Held: the gate's next drain rings 'drained:<stage>' for the debaters (bb_lib.lua, drained).
  if held and (ARGV[9] or '') ~= '' then redis.call('HSET', P .. 'bb:flow', 'held:' .. ARGV[9], 1) end
end
local ENDED = {ARCHIVED = true, FAILED = true, PUBLISHED = true}
for _, id in ipairs(open) do
  local key = D .. id
  local f = redis.call('HMGET', key, 'state', 'deadline', 'panel', 'quorum', 'early', 'started',
                       'span', 'opened', 'paused')
  if f[1] ~= 'open' then
    redis.call('ZREM', OPEN, id)
  elseif (f[6] or not held) and
         not ENDED[redis.call('HGET', P .. 'bb:item:' .. id, 'status') or ''] and
         (not f[6] or f[9] or t < tonumber(f[2])) and
         redis.call('HEXISTS', key .. ':votes', agent) == 0 and
         redis.call('HEXISTS', key .. ':seats', agent) == 0 then
    local seats = redis.call('HGETALL', key .. ':seats')
    local live = 0
    for i = 1, #seats, 2 do
      if redis.call('HEXISTS', key .. ':votes', seats[i]) == 1 or
         tonumber(redis.call('ZSCORE', REG, seats[i]) or '0') > t or
         t - tonumber(seats[i + 1]) < ttl then
        live = live + 1
      else
        redis.call('HDEL', key .. ':seats', seats[i])
      end
    end
    -- The quorum is seated first; the rest of the panel only when its votes leave the outcome
    -- open (a third call is wasted on a debate two confident votes have settled).
    local limit = tonumber(f[3])
    if f[5] ~= '0' and redis.call('HLEN', key .. ':votes') < math.min(tonumber(f[4]), limit) then
      limit = math.min(tonumber(f[4]), limit)
    end
    if live < limit and not decided(key) then
      redis.call('HSET', key .. ':seats', agent, t)
      redis.call('SADD', D .. 'seated:' .. agent, id)
      if not f[6] then
        local span = tonumber(f[7] or '0')
        if span <= 0 then span = tonumber(f[2]) - tonumber(f[8] or f[2]) end
        redis.call('HSET', key, 'started', t, 'deadline', t + span)
        redis.call('HDEL', key, 'paused')
      elseif f[9] then
        redis.call('HINCRBY', key, 'deadline', math.max(0, t - tonumber(f[9])))
        redis.call('HDEL', key, 'paused')
      end
      return {1, t, full(id)}
    end
  end
end
return {0}
