-- Give a seat back: the agent will not vote there.
-- ARGV: prefix, debate id, agent.
-- Returns 1 when a seat without a vote was removed, else 0.
local key = D .. ARGV[2]
if redis.call('HEXISTS', key .. ':votes', ARGV[3]) == 1 then return 0 end
return redis.call('HDEL', key .. ':seats', ARGV[3])
