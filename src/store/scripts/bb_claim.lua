-- Take the oldest unlocked item of a status, lock it and move it on, atomically.
-- ARGV: prefix, from status, to status, actor, lock token, lock TTL in ms, how many of the
--       oldest to look at for one that is not locked, '1' to return the item too.
-- Returns {1, id, fencing number, version[, the item's HGETALL]} or {0} when there is
-- nothing to take.
local from, to, by, token, ttl, scan = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if not BB_ALLOWED[from] or not BB_ALLOWED[from][to] then
  return redis.error_reply('claim cannot move items from ' .. from .. ' to ' .. to)
end
local ids = redis.call('ZRANGE', P .. 'st:' .. from, 0, tonumber(scan) - 1)
for _, id in ipairs(ids) do
  local lockkey = P .. 'lock:' .. id
  if redis.call('EXISTS', lockkey) == 0 then
    local key = P .. 'item:' .. id
    local fence = redis.call('INCR', P .. 'fence')
    redis.call('SET', lockkey, token .. ':' .. fence, 'PX', ttl)
    local sec = redis.call('HGET', key, 'section')
    local v = move(key, id, from, sec, to, by, 'claimed', now_ms(), 'claim')
    redis.call('HSET', key, 'owner', by, 'fence', fence)
    if ARGV[8] == '1' then return {1, id, fence, v, redis.call('HGETALL', key)} end
    return {1, id, fence, v}
  end
end
return {0}
