-- Creates a blackboard item, or settles one whose identity was seen before.
-- ARGV: prefix, id, section, status, content hash, check duplicate ('1'/'0'), actor,
--       identity ('s': the id is the source's own, guid or id or link; 'c': it was made from
--       the content hash), into (a story id semantic deduplication matched, or ''), the
--       source record to add to that story (JSON, or ''), the priority of an item flagged
--       breaking (body "breaking": true) that gives none, then pairs of body field name and
--       JSON value.
-- Identity: an item whose id exists (or was merged into a story as a further source) is the
-- same story again: {3, story} when its content hash is unchanged; else an update at source:
-- a story still PENDING gets the new title, content, url and published time (its hash and
-- version move on) and {4, id, 'revised'}; any later story keeps its text and records the
-- change in body "updated_at_source" ({count, at_ms, applied, status, id, title, content,
-- url, hash, by}), {4, story, 'recorded'}. Exact duplicates by content hash only among items
-- without an identity of their own ('c'): {2, existing id}. A new identity with `into` set
-- (and that story there) becomes a further source of it: appended to its body "sources",
-- kept as an alias (nr:bb:alias:<id> -> story, hash) so it is known when it comes again:
-- {5, story}. Otherwise the item is written: {1, version}. {0, reason} when refused.
-- A new item gets its priority (body "priority"; see below) and its place in its status's
-- queue by it. Nothing is written unless everything is.
local BREAKING_PRIORITY = tonumber(ARGV[11]) or 100
local id, sec, st, hash, dup, by = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local identity, into, source = ARGV[8], ARGV[9], ARGV[10]
local FIRST_PAIR = 12
local key = P .. 'item:' .. id
if not BB_SECTIONS[sec] then return {0, 'unknown section ' .. sec} end
if BB_STATUS_SECTION[st] == nil then return {0, 'unknown status ' .. st} end
if BB_STATUS_SECTION[st] and BB_STATUS_SECTION[st] ~= sec then
  return {0, 'status ' .. st .. ' belongs in section ' .. BB_STATUS_SECTION[st] .. ', not ' .. sec}
end

-- The body value of field name among the pairs, decoded, or nil.
local function given(name)
  for i = FIRST_PAIR, #ARGV, 2 do
    if ARGV[i] == name then return cjson.decode(ARGV[i + 1]) end
  end
  return nil
end

-- Records an update at source on story skey (status sst): the new text is kept beside the
-- story's own, never dropped.
local function record_update(skey, story, sst, ssec, t)
  local prev = redis.call('HGET', skey, 'f:updated_at_source')
  local count = 1
  if prev then count = (cjson.decode(prev).count or 0) + 1 end
  local u = {count = count, at_ms = t, applied = false, status = sst, id = id,
             title = given('title'), content = given('content'), url = given('url'), hash = hash,
             by = by}
  local v = redis.call('HINCRBY', skey, 'version', 1)
  redis.call('HSET', skey, 'f:updated_at_source', cjson.encode(u))
  event({'k', 'source_update', 'id', story, 'from', sst, 'to', sst, 'sec', ssec, 'v', v,
         'by', by, 'why', 'updated at source (' .. id .. '), recorded: the story is ' .. sst,
         't', t})
end

local t = now_ms()
if redis.call('EXISTS', key) == 1 then
  local f = redis.call('HMGET', key, 'hash', 'status', 'section')
  if f[1] == hash then return {3, id} end
  if f[2] ~= 'PENDING' then
    record_update(key, id, f[2], f[3], t)
    return {4, id, 'recorded'}
  end
  -- Not analysed yet: the story is revised in place.
  local prev = redis.call('HGET', key, 'f:updated_at_source')
  local count = 1
  if prev then count = (cjson.decode(prev).count or 0) + 1 end
  local fields = {'hash', hash, 'updated', t, 'by', by,
                  'f:updated_at_source', cjson.encode({count = count, at_ms = t, applied = true,
                                                       status = f[2], id = id,
                                                       previous_hash = f[1], by = by})}
  for i = FIRST_PAIR, #ARGV, 2 do
    local n = ARGV[i]
    if n == 'title' or n == 'content' or n == 'url' or n == 'published' or n == 'hash' then
      fields[#fields + 1] = 'f:' .. n
      fields[#fields + 1] = ARGV[i + 1]
    end
  end
  if redis.call('GET', P .. 'hash:' .. f[1]) == id then
    redis.call('DEL', P .. 'hash:' .. f[1])
    if identity == 'c' then redis.call('SET', P .. 'hash:' .. hash, id, 'NX') end
  end
  local v = redis.call('HINCRBY', key, 'version', 1)
  redis.call('HSET', key, unpack(fields))
  event({'k', 'revise', 'id', id, 'from', f[2], 'to', f[2], 'sec', f[3], 'v', v, 'by', by,
         'why', 'updated at source: text revised', 't', t})
  return {4, id, 'revised'}
end
local alias = redis.call('HMGET', P .. 'alias:' .. id, 'story', 'hash')
if alias[1] then
  if alias[2] == hash then return {3, alias[1]} end
  local skey = P .. 'item:' .. alias[1]
  local sf = redis.call('HMGET', skey, 'status', 'section')
  redis.call('HSET', P .. 'alias:' .. id, 'hash', hash)
  if sf[1] then record_update(skey, alias[1], sf[1], sf[2], t) end
  return {4, alias[1], 'recorded'}
end
if identity == 'c' and hash ~= '' then
  local existing = redis.call('GET', P .. 'hash:' .. hash)
  if existing and dup == '1' then return {2, existing} end
end
if into ~= '' then
  local skey = P .. 'item:' .. into
  local sf = redis.call('HMGET', skey, 'status', 'section')
  if sf[1] then
    local cur = redis.call('HGET', skey, 'f:sources')
    local list
    if cur and string.sub(cur, 1, 1) == '[' and string.sub(cur, -1) == ']' and cur ~= '[]' then
      list = string.sub(cur, 1, -2) .. ',' .. source .. ']'
    else
      list = '[' .. source .. ']'
    end
    local v = redis.call('HINCRBY', skey, 'version', 1)
    redis.call('HSET', skey, 'f:sources', list)
    redis.call('HSET', P .. 'alias:' .. id, 'story', into, 'hash', hash)
    event({'k', 'merge', 'id', into, 'from', sf[1], 'to', sf[1], 'sec', sf[2], 'v', v, 'by', by,
           'why', 'a further source: ' .. id, 't', t})
    return {5, into}
  end
end
if identity == 'c' and hash ~= '' then
  redis.call('SET', P .. 'hash:' .. hash, id, 'NX')
end
-- Every story carries a priority ('prio', its place in the queues): the one given (body
-- "priority"), else BREAKING_PRIORITY for an item flagged breaking, else 0; the body gets none
-- until the analyst gives one from its scores (the review desk shows "none" until then).
local prio = tonumber(given('priority'))
if prio == nil then
  prio = given('breaking') == true and BREAKING_PRIORITY or 0
end
local fields = {'id', id, 'section', sec, 'status', st, 'version', 1, 'owner', '', 'hash', hash,
                'attempts', 0, 'created', t, 'updated', t, 'fence', 0, 'by', by, 'reason', '',
                'since', t, 'entered', t, 'prio', math.floor(prio)}
for i = FIRST_PAIR, #ARGV, 2 do
  fields[#fields + 1] = 'f:' .. ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', key, unpack(fields))
redis.call('ZADD', P .. 'sec:' .. sec, t, id)
redis.call('ZADD', P .. 'st:' .. st, score_in(key, st, t), id)
wake(st)
redis.call('HINCRBY', P .. 'counts', sec .. '/' .. st, 1)
event({'k', 'write', 'id', id, 'from', '', 'to', st, 'sec', sec, 'v', 1, 'by', by, 'why', '',
       't', t})
return {1, 1}
