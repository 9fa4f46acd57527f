-- Lock the first due item of a status (highest priority, then oldest) that nobody holds,
-- without moving it (work that needs the item to stay where it is until done: publishing,
-- archiving), and return it: one round trip for what a query, a lock and a read would take
-- three.
-- ARGV: prefix, status, (unused), actor, lock token, lock TTL in ms, how many of the first
--       to look at, '1' to return the item too, the step the lock is for.
-- Returns {1, id, fencing number, version[, the item's HGETALL]} or {0} when every due item
-- of the status is held (or there is none).
local st, by, token, ttl, scan = ARGV[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local t = now_ms()
promote(P .. 'st:' .. st, st, t)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'st:' .. st, '-inf', t, 'LIMIT', 0,
                               tonumber(scan))) do
  local key = P .. 'item:' .. id
  local sec = redis.call('HGET', key, 'section')
  if not sec then
    redis.call('ZREM', P .. 'st:' .. st, id) -- an index entry without its item
  elseif redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
    local fence = hold(key, id, by, token, ttl, ARGV[9], '')
    local v = redis.call('HINCRBY', key, 'version', 1)
    redis.call('HSET', key, 'updated', t)
    event({'k', 'lock', 'id', id, 'from', st, 'to', st, 'sec', sec, 'v', v, 'by', by,
           'why', 'locked', 't', t})
    if ARGV[8] == '1' then return {1, id, fence, v, redis.call('HGETALL', key)} end
    return {1, id, fence, v}
  end
end
return {0}
