-- Create a blackboard item.
-- ARGV: prefix, id, section, status, content hash, check duplicate ('1'/'0'), actor,
--       then pairs of body field name and JSON value.
-- Returns {1, version} when written, {2, existing id} for a duplicate content hash, {3, id}
-- when an item with this id exists, {0, reason} when refused. Nothing is written unless
-- everything is.
local id, sec, st, hash, dup, by = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = P .. 'item:' .. id
if not BB_SECTIONS[sec] then return {0, 'unknown section ' .. sec} end
if BB_STATUS_SECTION[st] == nil then return {0, 'unknown status ' .. st} end
if BB_STATUS_SECTION[st] and BB_STATUS_SECTION[st] ~= sec then
  return {0, 'status ' .. st .. ' belongs in section ' .. BB_STATUS_SECTION[st] .. ', not ' .. sec}
end
if redis.call('EXISTS', key) == 1 then return {3, id} end
if hash ~= '' then
  local existing = redis.call('GET', P .. 'hash:' .. hash)
  if existing and dup == '1' then return {2, existing} end
  if not existing then redis.call('SET', P .. 'hash:' .. hash, id) end
end
local t = now_ms()
local fields = {'id', id, 'section', sec, 'status', st, 'version', 1, 'owner', '', 'hash', hash,
                'attempts', 0, 'created', t, 'updated', t, 'fence', 0, 'by', by, 'reason', ''}
for i = 8, #ARGV, 2 do
  fields[#fields + 1] = 'f:' .. ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', key, unpack(fields))
redis.call('ZADD', P .. 'sec:' .. sec, t, id)
redis.call('ZADD', P .. 'st:' .. st, t, id)
wake(st)
redis.call('HINCRBY', P .. 'counts', sec .. '/' .. st, 1)
event({'k', 'write', 'id', id, 'from', '', 'to', st, 'sec', sec, 'v', 1, 'by', by, 'why', '',
       't', t})
return {1, 1}
