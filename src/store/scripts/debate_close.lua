-- Close a debate with its outcome, score and reason; keep the newest closed debates indexed
-- and let a closed debate's keys expire.
-- ARGV: prefix, debate id, moderator, outcome, score, reason, keep (s), closed index size.
-- Returns {1, closed ms} or {0, why}.
local id, who = ARGV[2], ARGV[3]
local key = D .. id
local f = redis.call('HMGET', key, 'state', 'outcome', 'closed_by', 'lease', 'lease_until')
if not f[1] then return {0, 'no debate ' .. id} end
local t = now_ms()
if f[1] ~= 'open' then
  return {0, 'debate ' .. id .. ' is closed already (' .. (f[2] or '?') .. ' by ' ..
             (f[3] or '?') .. ')'}
end
if f[4] and f[4] ~= who and tonumber(f[5] or '0') > t then
  return {0, 'debate ' .. id .. ' is being closed by ' .. f[4]}
end
redis.call('HSET', key, 'state', 'closed', 'outcome', ARGV[4], 'score', ARGV[5],
           'reason', ARGV[6], 'closed', t, 'closed_by', who)
redis.call('HDEL', key, 'lease', 'lease_until')
redis.call('ZREM', OPEN, id)
redis.call('ZADD', CLOSED, t, id)
local max = tonumber(ARGV[8])
if redis.call('ZCARD', CLOSED) > max then
  redis.call('ZREMRANGEBYRANK', CLOSED, 0, -(max + 1))
end
local keep = tonumber(ARGV[7])
redis.call('EXPIRE', key, keep)
redis.call('EXPIRE', key .. ':votes', keep)
redis.call('EXPIRE', key .. ':seats', keep)
return {1, t}
