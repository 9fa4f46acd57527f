-- The number of records. ARGV: C.
local epoch = meta()
if not epoch then return gone() end
return redis.call('HLEN', C .. ':v')
