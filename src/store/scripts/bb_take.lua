-- Take the oldest due item waiting on one of some stages (queued there by a handoff, a retry
-- or a reclaim) that is still in the expected status and not locked, lock it for the taking
-- agent and take it off the stage, atomically; the stages are tried in the order given, then,
-- when none has one, optionally a claim from a status (as bb_claim). Items that left the
-- status meanwhile (an operator moved them), or were handed to another stage since, are
-- dropped from the stage. Entries scored after the server's time wait for a retry: skipped.
-- ARGV: prefix, status, actor, lock token, lock TTL in ms, how many of the oldest to look at,
--       '1' to return the item too, the claim's from status ('' for none), its step, its
--       back, then the stages.
-- Returns {1, id, fencing number, version, the item's HGETALL or 0, source} (source: the
-- stage's name, or 'st:' .. from for a claim) or {0} when nothing waits.
local st, by, token, ttl, scan = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local t = now_ms()
local function reply(key, id, fence, v, source)
  return {1, id, fence, v, ARGV[7] == '1' and redis.call('HGETALL', key) or 0, source}
end
for i = 11, #ARGV do
  local stage = ARGV[i]
  local skey = P .. 'stage:' .. stage
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', skey, '-inf', t, 'LIMIT', 0, scan)) do
    local key = P .. 'item:' .. id
    local cur = redis.call('HMGET', key, 'status', 'stage')
    -- Gone from the status, or handed to another stage since: a stale entry.
    if cur[1] ~= st or cur[2] ~= stage then
      redis.call('ZREM', skey, id)
    elseif redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
      local fence = hold(key, id, by, token, ttl, stage, 'stage:' .. stage)
      redis.call('ZREM', skey, id)
      local v = redis.call('HINCRBY', key, 'version', 1)
      redis.call('HSET', key, 'updated', t, 'by', by)
      event({'k', 'take', 'id', id, 'from', st, 'to', st,
             'sec', redis.call('HGET', key, 'section'), 'v', v, 'by', by, 'why', 'taken from ' ..
             stage, 'stage', stage, 't', t})
      return reply(key, id, fence, v, stage)
    end
  end
end
local from = ARGV[8]
if from ~= '' then
  if not BB_ALLOWED[from] or not BB_ALLOWED[from][st] then
    return redis.error_reply('a take cannot claim items from ' .. from .. ' into ' .. st)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'st:' .. from, '-inf', t, 'LIMIT', 0,
                                 scan)) do
    if redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
      local key = P .. 'item:' .. id
      local sec = redis.call('HGET', key, 'section')
      local fence = hold(key, id, by, token, ttl, ARGV[9], ARGV[10])
      local v = move(key, id, from, sec, st, by, 'claimed', t, 'claim')
      -- A new piece of work: the stage it may have waited on before is behind it.
      redis.call('HSET', key, 'stage', '')
      return reply(key, id, fence, v, 'st:' .. from)
    end
  end
end
return {0}
