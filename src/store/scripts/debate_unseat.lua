-- Give a seat back: the agent will not vote there.
-- ARGV: prefix, debate id, agent.
-- Returns 1 when a seat without a vote was removed, else 0.
local key = D .. ARGV[2]
if redis.call('HEXISTS', key .. ':votes', ARGV[3]) == 1 then return 0 end
local n = redis.call('HDEL', key .. ':seats', ARGV[3])
if n == 1 then wake('debate') end -- the seat is free for another debater
return n
