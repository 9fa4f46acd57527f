-- One page of a collection in insertion order. ARGV: C, the insertion order to start after,
-- the page size. Returns {epoch, seq, dim, then four per record: id, insertion order, packed
-- vector, metadata JSON}.
local epoch, dim, seq = meta()
if not epoch then return gone() end
local ids = redis.call('ZRANGEBYSCORE', C .. ':o', '(' .. ARGV[2], '+inf', 'WITHSCORES',
                       'LIMIT', 0, tonumber(ARGV[3]))
local out = {epoch, seq, dim}
for i = 1, #ids, 2 do
  out[#out + 1] = ids[i]
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = redis.call('HGET', C .. ':v', ids[i]) or ''
  out[#out + 1] = redis.call('HGET', C .. ':m', ids[i]) or '{}'
end
return out
