-- Take the oldest unlocked item of a status that is due, lock it for the claiming agent and
-- move it on, atomically.
-- ARGV: prefix, from status, to status, actor, lock token, lock TTL in ms, how many of the
--       oldest to look at for one that is not locked, '1' to return the item too, the step the
--       claim does, where the item goes back when the claim is taken back ('st:S', 'stage:N').
-- Returns {1, id, fencing number, version[, the item's HGETALL]} or {0} when there is
-- nothing to take. Entries scored after the server's time wait for a retry: skipped.
local from, to, by, token, ttl, scan = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if not BB_ALLOWED[from] or not BB_ALLOWED[from][to] then
  return redis.error_reply('claim cannot move items from ' .. from .. ' to ' .. to)
end
local t = now_ms()
local ids = redis.call('ZRANGEBYSCORE', P .. 'st:' .. from, '-inf', t, 'LIMIT', 0, tonumber(scan))
for _, id in ipairs(ids) do
  local lockkey = P .. 'lock:' .. id
  if redis.call('EXISTS', lockkey) == 0 then
    local key = P .. 'item:' .. id
    local sec = redis.call('HGET', key, 'section')
    local fence = hold(key, id, by, token, ttl, ARGV[9], ARGV[10])
    local v = move(key, id, from, sec, to, by, 'claimed', t, 'claim')
    if ARGV[8] == '1' then return {1, id, fence, v, redis.call('HGETALL', key)} end
    return {1, id, fence, v}
  end
end
return {0}
