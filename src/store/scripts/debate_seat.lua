-- Seat an agent at the oldest open debate, not past its deadline, where it has no seat and no
-- vote and whose live seats (with a vote, or taken less than the seat TTL ago) are fewer than
-- the quorum until the quorum has voted, then fewer than the panel, and whose votes do not
-- settle it already (decided()). Lapsed seats without a vote
-- are removed on the way.
-- ARGV: prefix, agent, seat TTL ms, how many of the oldest open debates to look at.
-- Returns {1, now, full debate} or {0}.
local agent, ttl, scan = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local t = now_ms()
for _, id in ipairs(redis.call('ZRANGE', OPEN, 0, scan - 1)) do
  local key = D .. id
  local f = redis.call('HMGET', key, 'state', 'deadline', 'panel', 'quorum', 'early')
  if f[1] ~= 'open' then
    redis.call('ZREM', OPEN, id)
  elseif t < tonumber(f[2]) and redis.call('HEXISTS', key .. ':votes', agent) == 0 and
         redis.call('HEXISTS', key .. ':seats', agent) == 0 then
    local seats = redis.call('HGETALL', key .. ':seats')
    local live = 0
    for i = 1, #seats, 2 do
      if redis.call('HEXISTS', key .. ':votes', seats[i]) == 1 or
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
      return {1, t, full(id)}
    end
  end
end
return {0}
