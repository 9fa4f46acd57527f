-- Adds or upserts records. ARGV: C, 'add' | 'upsert', then five per record: id, packed
-- float32 vector, '1' when a document is given, the document, metadata JSON ('' for none).
-- add leaves ids that exist alone; upsert replaces the vector, the document when one is given,
-- and merges the metadata (a null deletes its key). Every vector is checked against the
-- collection's dimension before anything is written. Returns the new sequence number.
local epoch, dim, seq = meta()
if not epoch then return gone() end
local upsert = ARGV[2] == 'upsert'
for i = 3, #ARGV, 5 do
  local len = string.len(ARGV[i + 1])
  if len == 0 or len % 4 ~= 0 then
    return redis.error_reply('DIM the embedding of ' .. ARGV[i] .. ' is not packed float32')
  end
  if dim == 0 then
    dim = len / 4
    redis.call('HSET', C, 'dim', dim)
  elseif len / 4 ~= dim then
    return redis.error_reply('DIM Collection expecting embedding with dimension of ' .. dim ..
                             ', got ' .. len / 4)
  end
end
-- Metadata without nulls: as given; with them, decoded and re-encoded without.
local function merged(old, new)
  if not string.find(new, 'null', 1, true) and not old then return new end
  local m = old and cjson.decode(old) or {}
  for k, v in pairs(cjson.decode(new)) do
    if v == cjson.null then m[k] = nil else m[k] = v end
  end
  if next(m) == nil then return '{}' end
  return cjson.encode(m)
end
for i = 3, #ARGV, 5 do
  local id, blob, hasdoc, doc, m = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local exists = redis.call('HEXISTS', C .. ':v', id) == 1
  if upsert or not exists then
    seq = seq + 1
    redis.call('HSET', C .. ':v', id, blob)
    if hasdoc == '1' then
      redis.call('HSET', C .. ':d', id, doc)
    end
    if m ~= '' then
      local old = exists and redis.call('HGET', C .. ':m', id) or nil
      redis.call('HSET', C .. ':m', id, merged(old or nil, m))
    elseif not exists then
      redis.call('HSET', C .. ':m', id, '{}')
    end
    if not exists then redis.call('ZADD', C .. ':o', seq, id) end
    log(seq, 'u', id)
  end
end
redis.call('HSET', C, 'seq', seq)
return seq
