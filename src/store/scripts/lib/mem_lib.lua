-- The local vector memory's shared Lua (src/memory/vmem_local.c): prepended to every mem_*.lua
-- script. ARGV[1] of each is the collection's key, nr:mem:c:<name>: a hash with the
-- collection's epoch (a new number each time the collection is made), dimension (0 until the
-- first vector) and change sequence number; beside it C:v (id -> packed float32 vector), C:m
-- (id -> metadata JSON), C:d (id -> document), C:o (ids scored by the sequence number of their
-- first write: insertion order, and stable paging) and C:log (a stream of changes whose entry
-- ids are <seq>-0, fields op u|d and id, capped near LOG_MAX).
local C = ARGV[1]
local LOG_MAX = 10000

-- The collection's epoch, dimension and sequence number, or nil when it does not exist.
local function meta()
  local f = redis.call('HMGET', C, 'epoch', 'dim', 'seq')
  if not f[1] then return nil end
  return tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
end

-- The error every script answers for a collection that is not there (dropped since the
-- caller opened it): the caller opens it again and retries.
local function gone()
  return redis.error_reply('GONE the collection does not exist (dropped)')
end

local function log(seq, op, id)
  redis.call('XADD', C .. ':log', 'MAXLEN', '~', LOG_MAX, seq .. '-0', 'op', op, 'id', id)
end

-- Adds or upserts the records ARGV[first..] (five each: id, packed float32 vector, '1' when a
-- document is given, the document, metadata JSON ('' for none)): add leaves ids that exist
-- alone; upsert replaces the vector, the document when one is given, and merges the metadata
-- (a null deletes its key). Every vector is checked against the collection's dimension before
-- anything is written. Returns the new sequence number, or an error reply.
local function write_records(first, upsert)
  local epoch, dim, seq = meta()
  if not epoch then return gone() end
  for i = first, #ARGV, 5 do
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
  for i = first, #ARGV, 5 do
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
end

-- What changed since a reader's sequence number last (its epoch given), at most max changes:
-- {'same', epoch, seq, dim} when nothing changed; {'reload', epoch, seq, dim} when the reader
-- must load the collection afresh (another epoch, or changes it missed were trimmed from the
-- log); else {'changes', epoch, reached, dim, seq, then four per changed id: id, packed
-- vector ('' when deleted), metadata JSON, insertion order}, each id once with its state now;
-- reached is the sequence number the reader is then at (below seq when there is more).
local function changes(reader_epoch, last, max)
  local epoch, dim, seq = meta()
  if not epoch then return gone() end
  if epoch ~= reader_epoch or last > seq then return {'reload', epoch, seq, dim} end
  if last == seq then return {'same', epoch, seq, dim} end
  local entries = redis.call('XRANGE', C .. ':log', '(' .. last .. '-0', '+', 'COUNT', max)
  if #entries == 0 or entries[1][1] ~= (last + 1) .. '-0' then
    return {'reload', epoch, seq, dim}
  end
  local out = {'changes', epoch, last, dim, seq}
  local seen = {}
  for _, e in ipairs(entries) do
    local id = e[2][4]
    out[3] = tonumber(string.match(e[1], '^(%d+)'))
    if not seen[id] then
      seen[id] = true
      local blob = redis.call('HGET', C .. ':v', id)
      out[#out + 1] = id
      out[#out + 1] = blob or ''
      out[#out + 1] = blob and (redis.call('HGET', C .. ':m', id) or '{}') or ''
      out[#out + 1] = blob and redis.call('ZSCORE', C .. ':o', id) or '0'
    end
  end
  return out
end
