-- Expiry, for the system: stories that waited too long before production are archived as
-- stale ("stale: waited 2h 5m before production (the limit is 2h)"), and stories that waited
-- for review longer than its limit are archived as "not reviewed in time"; each with one audit
-- record (user 'system', from the actor, what 'expire') in the same step. A story someone holds
-- is left for the next pass. Claims archive stale stories too when they meet them
-- (expire_stale in bb_lib.lua); this pass finds those no claim reaches (a full flow).
-- ARGV: prefix, actor, stale limit ms (0: none), review limit ms (0: none), the audit stream
--       and its cap, the most stories to look at per queue.
-- Returns {stale archived, unreviewed archived}.
local by, stale, review, audit, cap = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5],
                                      ARGV[6]
local limit = tonumber(ARGV[7])
local t = now_ms()
local n_stale, n_review = 0, 0

-- Before production: the sections a story waits in on its way there, by the time it entered
-- each (a story whose clock started earlier, in a section entered since, is found by the claim
-- that would take it).
local BEFORE = {RAW_FEED = {PENDING = true}, DEBATE_QUEUE = {DEBATING = true},
                CONSENSUS = {CONSENSUS_REACHED = true}}
if stale > 0 then
  for sec, statuses in pairs(BEFORE) do
    local ids = redis.call('ZRANGEBYSCORE', P .. 'sec:' .. sec, '-inf', t - stale, 'LIMIT', 0,
                           limit)
    for _, id in ipairs(ids) do
      local key = P .. 'item:' .. id
      local st = redis.call('HGET', key, 'status')
      if st and statuses[st] and redis.call('EXISTS', P .. 'lock:' .. id) == 0 and
         expire_stale(key, id, st, sec, stale, by, t, audit, cap) then
        n_stale = n_stale + 1
      end
    end
  end
end

-- Review: the queue is ordered by the time each story entered it.
if review > 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'st:REVIEWING', '-inf', t - review,
                                 'LIMIT', 0, limit)) do
    local key = P .. 'item:' .. id
    local f = redis.call('HMGET', key, 'status', 'section', 'entered', 'updated')
    if f[1] == 'REVIEWING' and redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
      local since = tonumber(f[3] or f[4] or t)
      expire(key, id, 'REVIEWING', f[2], 'not reviewed in time',
             'not reviewed in time: waited ' .. span(t - since) .. ' for a decision (the limit is ' ..
             span(review) .. ')', by, t, audit, cap)
      n_review = n_review + 1
    elseif not f[1] then
      redis.call('ZREM', P .. 'st:REVIEWING', id) -- an index entry without its item
    end
  end
end
return {n_stale, n_review}
