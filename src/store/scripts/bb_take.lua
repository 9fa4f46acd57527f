-- Take the first due item waiting on one of some stages (queued there by a handoff, a retry or
-- a reclaim; highest priority, then oldest) that is still in the expected status and not
-- locked, lock it for the taking agent and take it off the stage, atomically; the stages are
-- tried in the order given, then, when none has one, optionally a claim from a status (as
-- bb_claim). Items that left the status meanwhile (an operator moved them), or were handed to
-- another stage since, are dropped from the stage. Entries not due yet (a retry's backoff)
-- wait; those that became due are put in their place first.
-- Backpressure: a take from the stages is refused while the stage gate is full, the claim while
-- the claim gate is; a story found waiting longer than the limit before production when it is
-- claimed is archived as stale on the way (audited).
-- ARGV: prefix, status, actor, lock token, lock TTL in ms, how many of the first to look at,
--       '1' to return the item too, the claim's from status ('' for none), its step, its
--       back, the stage gate (key, field, high-water mark: see gate_full; '' '' 0 for none),
--       the claim gate (the same), how long a story may wait before production (ms, 0: no
--       limit), the audit stream and its cap, then the stages.
-- Returns {1, id, fencing number, version, the item's HGETALL or 0, source} (source: the
-- stage's name, or 'st:' .. from for a claim), {0} when nothing waits, or {2, depth} when
-- nothing was taken because a gate is full.
local st, by, token, ttl, scan = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local stale, audit, cap = ARGV[17], ARGV[18], ARGV[19]
local FIRST_STAGE = 20
local t = now_ms()
local function reply(key, id, fence, v, source)
  return {1, id, fence, v, ARGV[7] == '1' and redis.call('HGETALL', key) or 0, source}
end
local held = gate_full(ARGV[11], ARGV[12], ARGV[13])
for i = FIRST_STAGE, #ARGV do
  if held then break end
  local stage = ARGV[i]
  local skey = P .. 'stage:' .. stage
  promote(skey, nil, t)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', skey, '-inf', t, 'LIMIT', 0, scan)) do
    local key = P .. 'item:' .. id
    local cur = redis.call('HMGET', key, 'status', 'stage')
    -- Gone from the status, or handed to another stage since: a stale entry.
    if cur[1] ~= st or cur[2] ~= stage then
      redis.call('ZREM', skey, id)
    elseif redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
      local fence = hold(key, id, by, token, ttl, stage, 'stage:' .. stage)
      redis.call('ZREM', skey, id)
      drained('stage:' .. stage)
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
local full = held
if from ~= '' and not full then
  if not BB_ALLOWED[from] or not BB_ALLOWED[from][st] then
    return redis.error_reply('a take cannot claim items from ' .. from .. ' into ' .. st)
  end
  full = gate_full(ARGV[14], ARGV[15], ARGV[16])
  if not full then
    local key, id, fence, v = claim_first(from, st, by, token, ttl, scan, ARGV[9], ARGV[10], t,
                                          stale, audit, cap)
    if key then
      -- A new piece of work: the stage it may have waited on before is behind it.
      redis.call('HSET', key, 'stage', '')
      return reply(key, id, fence, v, 'st:' .. from)
    end
  end
end
if full then return {2, full} end
return {0}
