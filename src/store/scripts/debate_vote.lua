-- Record an agent's vote in a debate: once, from a seat, while the debate is open.
-- ARGV: prefix, debate id, agent, vote (for | against | abstain), confidence, reasoning.
-- Returns {1, votes it now has} or {0, why}.
local id, agent = ARGV[2], ARGV[3]
local key = D .. id
local state = redis.call('HGET', key, 'state')
if not state then return {0, 'no debate ' .. id} end
if state ~= 'open' then
  local f = redis.call('HMGET', key, 'outcome', 'closed_by')
  return {0, 'debate ' .. id .. ' is closed (' .. (f[1] or '?') .. ' by ' .. (f[2] or '?') .. ')'}
end
if redis.call('HEXISTS', key .. ':votes', agent) == 1 then
  return {0, agent .. ' has voted in debate ' .. id .. ' already'}
end
if redis.call('HEXISTS', key .. ':seats', agent) == 0 then
  return {0, agent .. ' has no seat in debate ' .. id .. ' (never seated, or the seat lapsed)'}
end
local v = cjson.encode({vote = ARGV[4], confidence = tonumber(ARGV[5]), reasoning = ARGV[6],
                        t = now_ms()})
redis.call('HSET', key .. ':votes', agent, v)
redis.call('SREM', D .. 'seated:' .. agent, id)
local n = redis.call('HLEN', key .. ':votes')
if decided(key) then
  wake('debate_full')
elseif n == tonumber(redis.call('HGET', key, 'quorum') or '0') then
  wake('debate') -- the quorum left it open: the rest of the panel may take their seats now
end
return {1, n}
