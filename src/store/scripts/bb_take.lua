-- Take the oldest item waiting on a stage (queued there by a handoff) that is still in the
-- expected status and not locked, lock it and take it off the stage, atomically. Items that
-- left the status meanwhile (an operator moved them), or were handed to another stage since,
-- are dropped from the stage.
-- ARGV: prefix, stage, status, actor, lock token, lock TTL in ms, how many of the oldest to
--       look at, '1' to return the item too.
-- Returns {1, id, fencing number, version[, the item's HGETALL]} or {0} when nothing waits.
local stage, st, by, token, ttl, scan = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local skey = P .. 'stage:' .. stage
for _, id in ipairs(redis.call('ZRANGE', skey, 0, tonumber(scan) - 1)) do
  local key = P .. 'item:' .. id
  local cur = redis.call('HMGET', key, 'status', 'stage')
  -- Gone from the status, or handed to another stage since: a stale entry.
  if cur[1] ~= st or cur[2] ~= stage then
    redis.call('ZREM', skey, id)
  elseif redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
    local fence = redis.call('INCR', P .. 'fence')
    redis.call('SET', P .. 'lock:' .. id, token .. ':' .. fence, 'PX', ttl)
    redis.call('ZREM', skey, id)
    local t = now_ms()
    local v = redis.call('HINCRBY', key, 'version', 1)
    redis.call('HSET', key, 'owner', by, 'fence', fence, 'updated', t, 'by', by)
    event({'k', 'take', 'id', id, 'from', st, 'to', st,
           'sec', redis.call('HGET', key, 'section'), 'v', v, 'by', by, 'why', 'taken from ' ..
           stage, 'stage', stage, 't', t})
    if ARGV[8] == '1' then return {1, id, fence, v, redis.call('HGETALL', key)} end
    return {1, id, fence, v}
  end
end
return {0}
