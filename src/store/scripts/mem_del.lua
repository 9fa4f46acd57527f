-- Deletes records by id. ARGV: C, then the ids. Returns how many there were.
local epoch, dim, seq = meta()
if not epoch then return gone() end
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('HDEL', C .. ':v', id) == 1 then
    redis.call('HDEL', C .. ':m', id)
    redis.call('HDEL', C .. ':d', id)
    redis.call('ZREM', C .. ':o', id)
    seq = seq + 1
    log(seq, 'd', id)
    n = n + 1
  end
end
redis.call('HSET', C, 'seq', seq)
return n
