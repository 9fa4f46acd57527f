-- Give a seat back: the agent will not vote there. With pause '1' (its call was deferred by
-- the budget or failed for an outage: not the debate's fault) the debate's clock stands still
-- from now until the next debater sits down (debate_seat.lua), and moderators do not close it
-- for its deadline meanwhile (debate_ready.lua).
-- ARGV: prefix, debate id, agent, pause ('1'/'0').
-- Returns 1 when a seat without a vote was removed, else 0.
local key = D .. ARGV[2]
redis.call('SREM', D .. 'seated:' .. ARGV[3], ARGV[2])
if redis.call('HEXISTS', key .. ':votes', ARGV[3]) == 1 then return 0 end
local n = redis.call('HDEL', key .. ':seats', ARGV[3])
if n == 1 then
  if ARGV[4] == '1' and redis.call('HGET', key, 'state') == 'open' and
     redis.call('HEXISTS', key, 'paused') == 0 then
    redis.call('HSET', key, 'paused', now_ms())
  end
  wake('debate') -- the seat is free for another debater
end
return n
