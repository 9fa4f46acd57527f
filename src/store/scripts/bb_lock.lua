-- Grant the lock of an item with a new fencing number, to the calling agent (its claim).
-- ARGV: prefix, id, token, TTL in ms, actor, the step the lock is for.
-- Returns {1, fencing number}, {0, 'busy'} when another holder has it, {0, 'no item ...'}.
local id, token, ttl, by = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = P .. 'item:' .. id
if redis.call('EXISTS', key) == 0 then return {0, 'no item ' .. id} end
if redis.call('EXISTS', P .. 'lock:' .. id) == 1 then return {0, 'busy'} end
-- The item learns the new number at once: a holder whose lock expired is refused from now on.
-- A write like any other: the version moves and the event says who holds it.
local fence = hold(key, id, by, token, ttl, ARGV[6], '')
local t = now_ms()
local v = redis.call('HINCRBY', key, 'version', 1)
redis.call('HSET', key, 'updated', t)
local f = redis.call('HMGET', key, 'status', 'section')
event({'k', 'lock', 'id', id, 'from', f[1], 'to', f[1], 'sec', f[2], 'v', v, 'by', by,
       'why', 'locked', 't', t})
return {1, fence}
