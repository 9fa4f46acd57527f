-- Gets or makes a collection. ARGV: C, the epoch counter key (nr:mem:epoch), the name.
-- Returns {epoch, dimension, sequence number}.
local epoch, dim, seq = meta()
if epoch then return {epoch, dim, seq} end
epoch = redis.call('INCR', ARGV[2])
redis.call('HSET', C, 'name', ARGV[3], 'epoch', epoch, 'dim', 0, 'seq', 0, 'space', 'cosine')
return {epoch, 0, 0}
