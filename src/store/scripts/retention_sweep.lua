-- Retention (src/recovery/retention.c): deletes what has stayed past its window, every key of
-- it in one step per batch, so nothing is ever half-deleted. Times are the server's clock.
-- Keys are built from the prefixes: which stories go is only known once the index is read.
-- ARGV[1]  op: stories | requests
-- stories:  ARGV[2] blackboard prefix ("nr:bb:"), ARGV[3] debate prefix ("nr:debate:"),
--           ARGV[4] open debates, ARGV[5] closed debates, ARGV[6] cost prefix ("nr:cost:"),
--           ARGV[7] terminal status, ARGV[8] window ms, ARGV[9] batch size, ARGV[10..] more
--           keys of a story, each a template where "{id}" stands for the story's id.
--           The stories that entered the status more than the window ago (the status index's
--           score) go with: their hash, content-hash entry, section/status index entries and
--           count, stage entry, debate and its votes and seats, per-task budget, their place in
--           open budget requests, the aliases of the items merged into them, their place in the
--           held set of their last owner and in the budget waits, and the templates' keys (the
--           caller removes their vector memory records). A story someone holds a lock on stays
--           for the next pass. Returns the ids deleted.
-- requests: ARGV[2] cost prefix, ARGV[3] window ms, ARGV[4] batch size. Budget requests decided
--           (granted, declined) more than the window ago go, with their task sets. Returns how
--           many went.
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

if op == 'requests' then
  local C, window, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
  local ids = redis.call('ZRANGEBYSCORE', C .. 'requests', '-inf', now - window, 'LIMIT', 0, limit)
  local gone = 0
  for _, rid in ipairs(ids) do
    local h = redis.call('HMGET', C .. 'req:' .. rid, 'status', 'decided_ms')
    if not h[1] or (h[1] ~= 'open' and tonumber(h[2] or '0') < now - window) then
      redis.call('DEL', C .. 'req:' .. rid, C .. 'req:' .. rid .. ':tasks')
      redis.call('ZREM', C .. 'requests', rid)
      gone = gone + 1
    end
  end
  return gone
end

local P, D, OPEN, CLOSED, C = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local status, window, limit = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
local ids = redis.call('ZRANGEBYSCORE', P .. 'st:' .. status, '-inf', now - window, 'LIMIT', 0,
  limit)
local open_requests = redis.call('HVALS', C .. 'req:open')
local gone = {}
for _, id in ipairs(ids) do
  local key = P .. 'item:' .. id
  local f = redis.call('HMGET', key, 'status', 'section', 'hash', 'stage')
  if not f[1] then
    redis.call('ZREM', P .. 'st:' .. status, id) -- an index entry without its item
  elseif f[1] == status and redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
    -- The items semantic deduplication merged into it (their aliases name it), the set of the
    -- agent that last held it, the budget waits.
    local srcs = redis.call('HMGET', key, 'f:sources', 'owner')
    if srcs[1] then
      local ok, list = pcall(cjson.decode, srcs[1])
      if ok and type(list) == 'table' then
        for _, s in ipairs(list) do
          if type(s) == 'table' and type(s.id) == 'string' and
              redis.call('HGET', P .. 'alias:' .. s.id, 'story') == id then
            redis.call('DEL', P .. 'alias:' .. s.id)
          end
        end
      end
    end
    if srcs[2] and srcs[2] ~= '' then redis.call('SREM', P .. 'held:' .. srcs[2], id) end
    redis.call('SREM', P .. 'budget_wait', id)
    redis.call('DEL', key)
    if f[3] and f[3] ~= '' and redis.call('GET', P .. 'hash:' .. f[3]) == id then
      redis.call('DEL', P .. 'hash:' .. f[3])
    end
    redis.call('ZREM', P .. 'sec:' .. f[2], id)
    redis.call('ZREM', P .. 'st:' .. status, id)
    redis.call('HINCRBY', P .. 'counts', f[2] .. '/' .. status, -1)
    if f[4] and f[4] ~= '' then redis.call('ZREM', P .. 'stage:' .. f[4], id) end
    redis.call('DEL', D .. id, D .. id .. ':votes', D .. id .. ':seats', C .. 'task:' .. id)
    redis.call('ZREM', OPEN, id)
    redis.call('ZREM', CLOSED, id)
    for _, rid in ipairs(open_requests) do
      redis.call('SREM', C .. 'req:' .. rid .. ':tasks', id)
    end
    for i = 10, #ARGV do
      local k, at = ARGV[i], string.find(ARGV[i], '{id}', 1, true)
      if at then k = string.sub(k, 1, at - 1) .. id .. string.sub(k, at + 4) end
      redis.call('DEL', k)
    end
    gone[#gone + 1] = id
  end
end
return gone
